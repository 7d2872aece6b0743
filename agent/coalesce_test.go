package agent

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// feed pushes n random-sized pieces of text with random pauses and bursts,
// some events in between, then a terminal event. It returns the text.
func feed(c *coalescer, n int, seed uint64) string {
	rng := rand.New(rand.NewPCG(seed, 7))
	var all strings.Builder
	for i := 0; i < n; i++ {
		s := fmt.Sprintf("<%d:%s>", i, strings.Repeat("x", rng.IntN(5)))
		all.WriteString(s)
		c.Text(s)
		switch rng.IntN(200) {
		case 0:
			time.Sleep(time.Duration(rng.IntN(20000)) * time.Microsecond)
		case 1: // each event splits the text: one more Delta, 16 ms later
			c.Event(Usage{PromptTokens: int64(i)})
		}
	}
	c.Event(Done{Text: all.String()})
	c.Text("after the end") // ignored
	c.Event(Failed{})       // ignored: exactly one terminal event
	return all.String()
}

// drain reads the channel, optionally slowly, and checks the invariants:
// nothing lost or reordered, one terminal event last, Deltas at least
// interval apart.
func drain(t *testing.T, c *coalescer, slow bool) (text string, deltas int, minGap time.Duration) {
	t.Helper()
	var b strings.Builder
	var last time.Time
	minGap = time.Hour
	terminal := 0
	lastUsage := int64(-1)
	for ev := range c.out {
		if terminal > 0 {
			t.Fatalf("event %#v after the terminal event", ev)
		}
		switch ev := ev.(type) {
		case Delta:
			now := time.Now()
			if !last.IsZero() && now.Sub(last) < minGap {
				minGap = now.Sub(last)
			}
			last = now
			deltas++
			if ev.Text == "" {
				t.Fatal("empty Delta")
			}
			b.WriteString(ev.Text)
		case Usage:
			if ev.PromptTokens <= lastUsage {
				t.Fatalf("events reordered: usage %d after %d", ev.PromptTokens, lastUsage)
			}
			lastUsage = ev.PromptTokens
			// Text queued before this event must already have arrived.
			if !strings.Contains(b.String(), fmt.Sprintf("<%d:", ev.PromptTokens)) {
				t.Fatalf("usage %d overtook its text", ev.PromptTokens)
			}
		case Done:
			terminal++
			if b.String() != ev.Text {
				t.Fatalf("text before Done differs from the text fed")
			}
		case Failed:
			t.Fatal("a second terminal event got through")
		}
		if slow {
			time.Sleep(2 * time.Millisecond)
		}
	}
	if terminal != 1 {
		t.Fatalf("%d terminal events", terminal)
	}
	return b.String(), deltas, minGap
}

func TestCoalescerKeepsEveryByte(t *testing.T) {
	for _, slow := range []bool{false, true} {
		for seed := uint64(0); seed < 5; seed++ {
			t.Run(fmt.Sprintf("slow=%v/seed=%d", slow, seed), func(t *testing.T) {
				t.Parallel()
				// Unbuffered, so that receipt times are send times and the
				// gap between two receipts bounds the pump's interval.
				c := newCoalescer(FrameInterval, 0)
				abandon := make(chan struct{})
				done := make(chan struct{})
				go func() { defer close(done); c.run(abandon) }()
				want := feed(c, 3000, seed)
				got, deltas, minGap := drain(t, c, slow)
				<-done
				if got != want {
					t.Fatalf("got %d bytes, fed %d", len(got), len(want))
				}
				if deltas > 1 && minGap < FrameInterval {
					t.Errorf("two Deltas %s apart; the interval is %s", minGap, FrameInterval)
				}
				if deltas >= 3000 {
					t.Errorf("%d Deltas for 3000 pieces: nothing was coalesced", deltas)
				}
			})
		}
	}
}

// lossyRun is the bug the coalescer exists to avoid: sending without
// waiting for a slow receiver, and dropping text when the channel is full.
func (c *coalescer) lossyRun() {
	defer close(c.out)
	for {
		c.mu.Lock()
		if c.head == len(c.items) {
			c.mu.Unlock()
			<-c.wake
			continue
		}
		it := c.items[c.head]
		c.pop()
		c.mu.Unlock()
		var ev Event = it.ev
		if ev == nil {
			ev = Delta{Text: string(it.text)}
		}
		if isTerminal(ev) {
			c.out <- ev
			return
		}
		select {
		case c.out <- ev:
		default: // receiver busy: dropped
		}
	}
}

// TestCoalescerNegativeControl shows the harness above catches lost text:
// the lossy pump, with a slow receiver, fails the same comparison.
func TestCoalescerNegativeControl(t *testing.T) {
	c := newCoalescer(FrameInterval, 4)
	done := make(chan struct{})
	go func() { defer close(done); c.lossyRun() }()
	fed := make(chan struct{})
	go func() { defer close(fed); feed(c, 3000, 1) }()
	defer func() { <-fed }()
	var got strings.Builder
	var want string
	for ev := range c.out {
		switch ev := ev.(type) {
		case Delta:
			got.WriteString(ev.Text)
		case Done:
			want = ev.Text
		}
		time.Sleep(50 * time.Microsecond)
	}
	<-done
	if got.String() == want {
		t.Fatal("the lossy pump lost nothing; the harness cannot tell")
	}
}

// TestCoalescerAbandon: with nobody reading, abandon unblocks the pump and
// the channel is closed.
func TestCoalescerAbandon(t *testing.T) {
	c := newCoalescer(time.Millisecond, 1)
	abandon := make(chan struct{})
	done := make(chan struct{})
	go func() { defer close(done); c.run(abandon) }()
	for i := 0; i < 10; i++ {
		c.Event(Usage{})
	}
	close(abandon)
	<-done
	n := 0
	for range c.out {
		n++
	}
	if n > 1 {
		t.Errorf("%d events buffered in a channel of capacity 1", n)
	}
}
