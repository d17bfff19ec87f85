package postgres

import (
	"context"
	"crypto/md5"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hyperopt-go/hyperopt/trials"
)

// waker returns the channel that the next change of experiment exp closes.
// The channels are kept by notifyKey(exp).
func (s *Store) waker(exp string) chan struct{} {
	key := notifyKey(exp)
	s.wmu.Lock()
	defer s.wmu.Unlock()
	ch, ok := s.wakers[key]
	if !ok {
		ch = make(chan struct{})
		s.wakers[key] = ch
	}
	return ch
}

// notifyKey is how a notification names experiment exp: its key, or for a
// long key "md5:" and the MD5 of the key in hex, as hyperopt_notify does.
func notifyKey(exp string) string {
	if len(exp) <= 1000 {
		return exp
	}
	return fmt.Sprintf("md5:%x", md5.Sum([]byte(exp)))
}

// wake wakes the waiters of the experiment that a notification names by
// key (see notifyKey), or of every experiment if all.
func (s *Store) wake(key string, all bool) {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if all {
		for k, ch := range s.wakers {
			close(ch)
			delete(s.wakers, k)
		}
		return
	}
	if ch, ok := s.wakers[key]; ok {
		close(ch)
		delete(s.wakers, key)
	}
}

// startListener starts the goroutine that holds the listening connection,
// once; it stops at Close.
func (s *Store) startListener() {
	s.listenOnce.Do(func() {
		ctx, cancel := context.WithCancel(context.Background())
		s.cancel = cancel
		s.listenWG.Add(1)
		go func() {
			defer s.listenWG.Done()
			s.listen(ctx)
		}()
	})
}

// listen listens for the store's notifications until ctx ends, connecting
// again (with backoff) whenever its connection fails; after every
// (re)connection it wakes every waiter, since notifications sent while it
// was away are lost.
func (s *Store) listen(ctx context.Context) {
	wait := 10 * time.Millisecond
	first := true
	for ctx.Err() == nil {
		conn, err := pgx.ConnectConfig(ctx, s.connCfg.Copy())
		if err == nil {
			_, err = conn.Exec(ctx, "LISTEN "+pgx.Identifier{s.channel}.Sanitize())
			if err == nil {
				wait = 10 * time.Millisecond
				if first {
					// No waiter has registered before this.
					close(s.ready)
					first = false
				} else {
					s.wake("", true)
				}
				for {
					n, err := conn.WaitForNotification(ctx)
					if err != nil {
						break
					}
					// The payload is "<seq> <experiment key>".
					if _, key, ok := strings.Cut(n.Payload, " "); ok {
						s.wake(key, false)
					}
				}
			}
			closeCtx, cancel := context.WithTimeout(context.Background(), time.Second)
			_ = conn.Close(closeCtx)
			cancel()
		}
		select {
		case <-ctx.Done():
		case <-time.After(wait):
		}
		wait = min(2*wait, time.Second)
	}
}

// Wait implements trials.Waiter with LISTEN/NOTIFY. It may return early,
// with a Seq not greater than since, after the listening connection was
// lost and made again.
func (s *Store) Wait(ctx context.Context, exp string, since int64) (int64, error) {
	if s.closed.Load() {
		return 0, trials.ErrClosed
	}
	s.startListener()
	select {
	case <-s.ready:
	case <-ctx.Done():
		return 0, ctx.Err()
	case <-s.done:
		return 0, trials.ErrClosed
	}
	ch := s.waker(exp) // before reading, so that no change is missed
	seq, err := s.seq(ctx, exp)
	if err != nil || seq > since {
		return seq, err
	}
	select {
	case <-ch:
	case <-ctx.Done():
		return 0, ctx.Err()
	case <-s.done:
		return 0, trials.ErrClosed
	}
	return s.seq(ctx, exp)
}

// seq reads experiment exp's Seq.
func (s *Store) seq(ctx context.Context, exp string) (int64, error) {
	var seq int64
	err := s.do(ctx, false, func(ctx context.Context) error {
		err := s.pool.QueryRow(ctx, "SELECT seq FROM experiments WHERE key = $1", exp).Scan(&seq)
		if errors.Is(err, pgx.ErrNoRows) {
			return &permanent{fmt.Errorf("experiment %q: %w", exp, trials.ErrNotFound)}
		}
		return err
	})
	return seq, err
}
