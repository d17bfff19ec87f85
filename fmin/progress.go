package fmin

import (
	"fmt"
	"math"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// progress draws the search's progress: trials finished, best loss, rate.
type progress struct {
	bar *progressbar.ProgressBar
}

// newProgress returns a progress bar for a search of total trials (0: no
// limit, a spinner) of which initial are already finished, or nil if opts
// ask for none or the writer is not a terminal.
func newProgress(opts *Options, total, initial int) *progress {
	w := opts.ProgressWriter
	if w == nil {
		w = os.Stderr
	}
	switch opts.Progress {
	case ProgressOff:
		return nil
	case ProgressAuto:
		f, ok := w.(interface{ Fd() uintptr })
		if !ok || !term.IsTerminal(int(f.Fd())) {
			return nil
		}
	}
	max := int64(total)
	if total == 0 {
		max = -1
	}
	bar := progressbar.NewOptions64(max,
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription("best loss: -"),
		progressbar.OptionShowCount(),
		progressbar.OptionShowIts(),
		progressbar.OptionSetItsString("trials"),
		progressbar.OptionSetElapsedTime(true),
		progressbar.OptionSetPredictTime(total > 0),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionSetWidth(20),
		progressbar.OptionOnCompletion(func() { fmt.Fprintln(w) }),
	)
	if initial > 0 {
		_ = bar.Set(initial)
	}
	return &progress{bar: bar}
}

// update adds one finished trial and shows the best loss so far.
func (p *progress) update(best float64) {
	if p == nil {
		return
	}
	if !math.IsInf(best, 1) {
		p.bar.Describe(fmt.Sprintf("best loss: %.4g", best))
	}
	_ = p.bar.Add(1)
}

// finish ends the bar's line, leaving it where the search stopped.
func (p *progress) finish() {
	if p == nil || p.bar.IsFinished() {
		return
	}
	_ = p.bar.Exit()
}
