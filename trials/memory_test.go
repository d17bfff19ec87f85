package trials_test

import (
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/hyperopt-go/hyperopt/trials"
	"github.com/hyperopt-go/hyperopt/trials/trialstest"
)

func TestMemoryConformance(t *testing.T) {
	trialstest.Run(t, func(t *testing.T) trials.Store { return trials.NewMemory(nil) })
}

func BenchmarkMemory(b *testing.B) {
	trialstest.Bench(b, func(b *testing.B) trials.Store { return trials.NewMemory(nil) })
}

// fakeClock is a clock that moves only when told to.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// TestMemoryClock checks leases and trial times against the clock of
// MemoryOptions.Now.
func TestMemoryClock(t *testing.T) {
	ctx := t.Context()
	t0 := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	clock := &fakeClock{now: t0}
	m := trials.NewMemory(&trials.MemoryOptions{Now: clock.Now})
	e, err := m.Open(ctx, trials.ExperimentSpec{Key: "e", Space: json.RawMessage(`{}`), Fingerprint: "f"})
	if err != nil {
		t.Fatalf("Open() = %v, want nil", err)
	}
	if !e.Created.Equal(t0) {
		t.Errorf("Open().Created = %v, want %v", e.Created, t0)
	}
	ids, err := m.Claim(ctx, "e", 1, "")
	if err != nil {
		t.Fatalf("Claim(1) = %v, want nil", err)
	}
	if err := m.Propose(ctx, "e", []trials.Proposal{{ID: ids[0], Values: []float64{0.5}}}); err != nil {
		t.Fatalf("Propose() = %v, want nil", err)
	}

	clock.Advance(time.Second)
	const ttl = 10 * time.Second
	a, err := m.Reserve(ctx, "e", "a", ttl)
	if err != nil {
		t.Fatalf("Reserve() = %v, want nil", err)
	}
	t1 := t0.Add(time.Second)
	if !a.Booked.Equal(t0) || !a.Started.Equal(t1) || !a.LeaseUntil.Equal(t1.Add(ttl)) {
		t.Errorf("Reserve() = Booked %v, Started %v, LeaseUntil %v; want %v, %v, %v", a.Booked, a.Started, a.LeaseUntil, t0, t1, t1.Add(ttl))
	}

	// Half the lease: still held.
	clock.Advance(ttl / 2)
	if _, err := m.Reserve(ctx, "e", "b", ttl); !errors.Is(err, trials.ErrNoQueued) {
		t.Errorf("Reserve() half way through the lease = %v, want ErrNoQueued", err)
	}
	// A heartbeat extends it by ttl from now.
	if err := m.Heartbeat(ctx, "e", a.Lease(), ttl); err != nil {
		t.Fatalf("Heartbeat() = %v, want nil", err)
	}
	clock.Advance(ttl - time.Second) // past the first lease, within the extended one
	if _, err := m.Reserve(ctx, "e", "b", ttl); !errors.Is(err, trials.ErrNoQueued) {
		t.Errorf("Reserve() within the extended lease = %v, want ErrNoQueued", err)
	}
	// An expired lease that nobody took over is still the trial's lease.
	clock.Advance(2 * time.Second)
	if err := m.Heartbeat(ctx, "e", a.Lease(), time.Second); err != nil {
		t.Errorf("Heartbeat() of an expired lease not yet taken over = %v, want nil", err)
	}
	clock.Advance(2 * time.Second)

	// Past it: taken over as attempt 2.
	b, err := m.Reserve(ctx, "e", "b", ttl)
	if err != nil {
		t.Fatalf("Reserve() after the lease expired = %v, want the trial", err)
	}
	now := clock.Now()
	if b.ID != a.ID || b.Attempt != 2 || b.Owner != "b" || !b.Started.Equal(now) || !b.LeaseUntil.Equal(now.Add(ttl)) {
		t.Errorf("Reserve() after expiry = trial %d attempt %d owner %q Started %v LeaseUntil %v; want %d, 2, b, %v, %v",
			b.ID, b.Attempt, b.Owner, b.Started, b.LeaseUntil, a.ID, now, now.Add(ttl))
	}
	if err := m.Heartbeat(ctx, "e", a.Lease(), ttl); !errors.Is(err, trials.ErrConflict) {
		t.Errorf("Heartbeat(attempt 1) after the takeover = %v, want ErrConflict", err)
	}
	if err := m.Finish(ctx, "e", a.Lease(), trials.StateDone, trials.OK(1)); !errors.Is(err, trials.ErrConflict) {
		t.Errorf("Finish(attempt 1) after the takeover = %v, want ErrConflict", err)
	}

	clock.Advance(time.Minute)
	if err := m.Finish(ctx, "e", b.Lease(), trials.StateDone, trials.OK(1)); err != nil {
		t.Fatalf("Finish(attempt 2) = %v, want nil", err)
	}
	got, err := m.Get(ctx, "e", a.ID)
	if err != nil {
		t.Fatalf("Get() = %v, want nil", err)
	}
	if !got.Ended.Equal(clock.Now()) {
		t.Errorf("Get().Ended = %v, want %v", got.Ended, clock.Now())
	}
	// A finished trial's lease never expires into a new attempt.
	clock.Advance(time.Hour)
	if _, err := m.Reserve(ctx, "e", "c", ttl); !errors.Is(err, trials.ErrNoQueued) {
		t.Errorf("Reserve() with the only trial done = %v, want ErrNoQueued", err)
	}
}
