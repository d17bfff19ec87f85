package trialstest

import (
	"testing"

	"github.com/hyperopt-go/hyperopt/trials"
)

// ---- Attachments, isolation ----

func testAttachments(t *testing.T, s trials.Store) {
	ctx := t.Context()
	open(t, s, spec(exp, 0))
	tr := start(t, s, exp, owner, longTTL)
	files := map[string][]byte{"model.bin": {0, 1, 2, 255}, "log.txt": []byte("epoch 1\nepoch 2\n")}
	r := trials.OK(0.1)
	r.Attachments = files
	finish(t, s, exp, tr.Lease(), trials.StateDone, r)

	check := func(call string, got trials.Trial) {
		t.Helper()
		if len(got.Result.Attachments) != len(files) {
			t.Errorf("%s: attachments %v, want the names of %d", call, got.Result.Attachments, len(files))
		}
		for name, b := range got.Result.Attachments {
			if _, ok := files[name]; !ok || b != nil {
				t.Errorf("%s: attachment %q = %q, want a name of the finish with nil bytes", call, name, b)
			}
		}
	}
	check("Get()", get(t, s, exp, tr.ID))
	ts, _ := changes(t, s, exp, 0)
	if len(ts) != 1 {
		t.Fatalf("Changes(0) = %v, want 1 trial", idsOf(ts))
	}
	check("Changes(0)", ts[0])
	for name, want := range files {
		b, err := s.Attachment(ctx, exp, tr.ID, name)
		if err != nil || string(b) != string(want) {
			t.Errorf("Attachment(%q) = %q, %v; want %q, nil", name, b, err, want)
		}
	}
	_, err := s.Attachment(ctx, exp, tr.ID, "nope")
	wantErr(t, err, trials.ErrNotFound, "Attachment(unknown name)")

	wantErr(t, s.Finish(ctx, exp, tr.Lease(), trials.StateDone, r), nil, "Finish(same result and attachments) again")
	r2 := trials.OK(0.1)
	r2.Attachments = map[string][]byte{"model.bin": {0, 1, 2, 254}, "log.txt": files["log.txt"]}
	wantErr(t, s.Finish(ctx, exp, tr.Lease(), trials.StateDone, r2), trials.ErrConflict, "Finish(other attachment bytes)")
}

func testIsolation(t *testing.T, s trials.Store) {
	ctx := t.Context()
	open(t, s, spec(exp, 0))
	id := claim(t, s, exp, 1)[0]
	v := []float64{0.5}
	propose(t, s, exp, trials.Proposal{ID: id, Values: v})
	v[0] = 0.9
	g := get(t, s, exp, id)
	if g.Values[0] != 0.5 {
		t.Errorf("Get().Values = %v after the caller changed its slice, want [0.5]", g.Values)
	}
	g.Values[0] = 0.7
	if g := get(t, s, exp, id); g.Values[0] != 0.5 {
		t.Errorf("Get().Values = %v after a caller changed a returned slice, want [0.5]", g.Values)
	}

	tr := reserve(t, s, exp, owner, longTTL)
	r := trials.Result{Loss: 1, Extras: map[string]any{"a": "b"}, Attachments: map[string][]byte{"f": []byte("abc")}}
	finish(t, s, exp, tr.Lease(), trials.StateDone, r)
	r.Extras["a"] = "z"
	r.Attachments["f"][0] = 'x'
	if g := get(t, s, exp, id); g.Result.Extras["a"] != "b" {
		t.Errorf("Get().Result.Extras = %v after the caller changed its map, want a: b", g.Result.Extras)
	}
	b, err := s.Attachment(ctx, exp, id, "f")
	if err != nil || string(b) != "abc" {
		t.Fatalf("Attachment(f) = %q, %v after the caller changed its bytes; want abc, nil", b, err)
	}
	b[0] = 'y'
	if b, _ := s.Attachment(ctx, exp, id, "f"); string(b) != "abc" {
		t.Errorf("Attachment(f) = %q after a caller changed returned bytes, want abc", b)
	}
}

// ---- Close ----

func testClose(t *testing.T, s trials.Store) {
	ctx := t.Context()
	open(t, s, spec(exp, 0))
	tr := start(t, s, exp, owner, longTTL)
	if err := s.Close(); err != nil {
		t.Fatalf("Close() = %v, want nil", err)
	}
	l := tr.Lease()
	_, err := s.Open(ctx, spec(exp, 0))
	wantErr(t, err, trials.ErrClosed, "Open() after Close")
	_, err = s.Experiments(ctx)
	wantErr(t, err, trials.ErrClosed, "Experiments() after Close")
	_, err = s.Claim(ctx, exp, 1, "")
	wantErr(t, err, trials.ErrClosed, "Claim() after Close")
	wantErr(t, s.Propose(ctx, exp, []trials.Proposal{{ID: 1, Values: value(1)}}), trials.ErrClosed, "Propose() after Close")
	wantErr(t, s.Release(ctx, exp, []trials.ID{1}), trials.ErrClosed, "Release() after Close")
	_, err = s.Reserve(ctx, exp, owner, longTTL)
	wantErr(t, err, trials.ErrClosed, "Reserve() after Close")
	wantErr(t, s.Heartbeat(ctx, exp, l, longTTL), trials.ErrClosed, "Heartbeat() after Close")
	wantErr(t, s.Report(ctx, exp, l, trials.Report{Step: 1}), trials.ErrClosed, "Report() after Close")
	wantErr(t, s.Finish(ctx, exp, l, trials.StateDone, trials.OK(1)), trials.ErrClosed, "Finish() after Close")
	wantErr(t, s.Requeue(ctx, exp, []trials.Lease{tr.Lease()}), trials.ErrClosed, "Requeue() after Close")
	wantErr(t, s.Cancel(ctx, exp, []trials.Lease{tr.Lease()}), trials.ErrClosed, "Cancel() after Close")
	_, err = s.Get(ctx, exp, tr.ID)
	wantErr(t, err, trials.ErrClosed, "Get() after Close")
	_, _, err = s.Changes(ctx, exp, 0, 0)
	wantErr(t, err, trials.ErrClosed, "Changes() after Close")
	_, err = s.Attachment(ctx, exp, tr.ID, "a")
	wantErr(t, err, trials.ErrClosed, "Attachment() after Close")
}
