package trialstest

import (
	"math"
	"slices"
	"testing"
	"time"

	"github.com/hyperopt-go/hyperopt/trials"
)

func reports(tb testing.TB, s trials.Store, exp string, since int64, limit int) ([]trials.TrialReport, int64) {
	tb.Helper()
	rs, next, err := s.Reports(tb.Context(), exp, since, limit)
	if err != nil {
		tb.Fatalf("Reports(%q, %d, %d) = %v, want nil", exp, since, limit, err)
	}
	return rs, next
}

func plain(rs []trials.TrialReport) []trials.Report {
	out := make([]trials.Report, len(rs))
	for i, r := range rs {
		out[i] = r.Report
	}
	return out
}

func testReport(t *testing.T, s trials.Store) {
	ctx := t.Context()
	open(t, s, spec(exp, 0))
	tr := start(t, s, exp, owner, longTTL)
	_, seq := changes(t, s, exp, 0)
	want := []trials.Report{{Step: 1, Value: 0.9}, {Step: 2, Value: 0.8}, {Step: 3, Value: 0.7}}
	for _, r := range want {
		if err := s.Report(ctx, exp, tr.Lease(), r); err != nil {
			t.Fatalf("Report(%+v, %+v) = %v, want nil", tr.Lease(), r, err)
		}
	}
	if g := get(t, s, exp, tr.ID); !slices.Equal(g.Reports, want) || g.Seq != tr.Seq {
		t.Errorf("Get() after 3 Reports = reports %v seq %d, want %v and the seq %d unchanged", g.Reports, g.Seq, want, tr.Seq)
	}
	// Reports travel apart: the trial is not restamped or resent.
	if ts, next := changes(t, s, exp, seq); len(ts) != 0 || next != seq {
		t.Errorf("Changes(%d) after 3 Reports = %v, %d; want none, %d", seq, idsOf(ts), next, seq)
	}
	rs, next := reports(t, s, exp, 0, 0)
	if !slices.Equal(plain(rs), want) {
		t.Fatalf("Reports(0) = %v, want %v", rs, want)
	}
	for i, r := range rs {
		if r.ID != tr.ID || r.Attempt != 1 || (i > 0 && r.Seq <= rs[i-1].Seq) {
			t.Errorf("Reports(0)[%d] = %+v, want trial %d attempt 1 with increasing seqs", i, r, tr.ID)
		}
	}
	if e := experiment(t, s, exp); next != rs[2].Seq || e.ReportSeq != next || e.Seq != seq {
		t.Errorf("Reports(0) next = %d, Experiments() ReportSeq %d Seq %d; want %d, %d, %d", next, e.ReportSeq, e.Seq, rs[2].Seq, rs[2].Seq, seq)
	}
	if ts, _ := changes(t, s, exp, 0); len(ts) != 1 || ts[0].Reports != nil {
		t.Errorf("Changes(0) = %d trials with reports %v, want 1 without reports", len(ts), ts[0].Reports)
	}

	wantErr(t, s.Report(ctx, exp, trials.Lease{ID: tr.ID, Attempt: 2}, trials.Report{Step: 4}), trials.ErrConflict, "Report(lease of a later attempt)")
	q := queue(t, s, exp, 1)[0]
	wantErr(t, s.Report(ctx, exp, trials.Lease{ID: q, Attempt: 0}, trials.Report{Step: 1}), trials.ErrConflict, "Report(queued trial)")
	finish(t, s, exp, tr.Lease(), trials.StateDone, trials.OK(0.7))
	wantErr(t, s.Report(ctx, exp, tr.Lease(), trials.Report{Step: 4}), trials.ErrConflict, "Report(finished trial)")
	if g := get(t, s, exp, tr.ID); !slices.Equal(g.Reports, want) {
		t.Errorf("Get().Reports after Finish = %v, want %v", g.Reports, want)
	}
}

func testReportRetry(t *testing.T, s trials.Store) {
	ctx := t.Context()
	open(t, s, spec(exp, 0))
	tr := start(t, s, exp, owner, longTTL)
	nan := trials.Report{Step: 2, Value: math.NaN()}
	for _, r := range []trials.Report{{Step: 1, Value: 0.5}, {Step: 1, Value: 0.5}, nan, nan} {
		if err := s.Report(ctx, exp, tr.Lease(), r); err != nil {
			t.Fatalf("Report(%+v) = %v, want nil (the second of each is a retry)", r, err)
		}
	}
	wantErr(t, s.Report(ctx, exp, tr.Lease(), trials.Report{Step: 1, Value: 0.6}), trials.ErrConflict, "Report(step 1 again, another value)")
	finish(t, s, exp, tr.Lease(), trials.StateDone, trials.OK(0.5))
	// A retry whose first call committed before the trial finished.
	if err := s.Report(ctx, exp, tr.Lease(), trials.Report{Step: 1, Value: 0.5}); err != nil {
		t.Errorf("Report(step 1 again) after Finish = %v, want nil (a retry)", err)
	}
	if rs, _ := reports(t, s, exp, 0, 0); len(rs) != 2 || rs[0].Step != 1 || rs[1].Step != 2 || !math.IsNaN(rs[1].Value) {
		t.Errorf("Reports(0) = %v, want steps 1 and 2 once each (step 2 NaN)", rs)
	}
}

func testReportsPaging(t *testing.T, s trials.Store) {
	ctx := t.Context()
	open(t, s, spec(exp, 0))
	a := start(t, s, exp, owner, longTTL)
	b := start(t, s, exp, owner, longTTL)
	var want []trials.TrialReport
	for step := range int64(4) {
		for _, tr := range []trials.Trial{a, b} {
			r := trials.Report{Step: step, Value: float64(step) + float64(tr.ID)/10}
			if err := s.Report(ctx, exp, tr.Lease(), r); err != nil {
				t.Fatalf("Report(%+v, %+v) = %v", tr.Lease(), r, err)
			}
			want = append(want, trials.TrialReport{ID: tr.ID, Attempt: 1, Report: r})
		}
	}
	var got []trials.TrialReport
	since := int64(0)
	for range 10 {
		page, next := reports(t, s, exp, since, 3)
		if len(page) > 3 || (len(page) > 0 && next != page[len(page)-1].Seq) || next < since {
			t.Fatalf("Reports(%d, 3) = %d reports, next %d; want at most 3 and next the last one's seq", since, len(page), next)
		}
		got = append(got, page...)
		since = next
		if len(page) < 3 {
			break
		}
	}
	if len(got) != len(want) {
		t.Fatalf("paging Reports by 3 gave %d reports, want %d", len(got), len(want))
	}
	for i := range got {
		if got[i].ID != want[i].ID || got[i].Attempt != want[i].Attempt || got[i].Report != want[i].Report {
			t.Errorf("paged report %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	if rs, next := reports(t, s, exp, since, 3); len(rs) != 0 || next != since {
		t.Errorf("Reports(%d) at the end = %v, %d; want none, %d", since, rs, next, since)
	}
}

func testReportsNewAttempt(t *testing.T, s trials.Store) {
	ctx := t.Context()
	open(t, s, spec(exp, 0))
	a := start(t, s, exp, owner, shortTTL)
	if err := s.Report(ctx, exp, a.Lease(), trials.Report{Step: 1, Value: 1}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(shortTTL)
	b := reserveEventually(t, s, exp, "worker-b", longTTL)
	if g := get(t, s, exp, b.ID); len(g.Reports) != 0 {
		t.Errorf("Get(%d).Reports at attempt 2 = %v, want none (a trial's reports are its current attempt's)", b.ID, g.Reports)
	}
	if err := s.Report(ctx, exp, b.Lease(), trials.Report{Step: 1, Value: 2}); err != nil {
		t.Fatalf("Report(step 1) under attempt 2 = %v, want nil", err)
	}
	rs, _ := reports(t, s, exp, 0, 0)
	if len(rs) != 2 || rs[0].Attempt != 1 || rs[1].Attempt != 2 || rs[1].Value != 2 {
		t.Errorf("Reports(0) = %+v, want step 1 of attempt 1 and of attempt 2", rs)
	}
	if g := get(t, s, exp, b.ID); !slices.Equal(g.Reports, []trials.Report{{Step: 1, Value: 2}}) {
		t.Errorf("Get(%d).Reports = %v, want attempt 2's", b.ID, g.Reports)
	}
}
