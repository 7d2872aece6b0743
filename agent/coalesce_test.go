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
// nothing lost or reordered, one terminal event, last.
func drain(t *testing.T, c *coalescer, slow bool) (text string, deltas int) {
	t.Helper()
	var b strings.Builder
	terminal := 0
	lastUsage := int64(-1)
	for ev := range c.out {
		if terminal > 0 {
			t.Fatalf("event %#v after the terminal event", ev)
		}
		switch ev := ev.(type) {
		case Delta:
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
	return b.String(), deltas
}

func TestCoalescerKeepsEveryByte(t *testing.T) {
	for _, slow := range []bool{false, true} {
		for seed := uint64(0); seed < 5; seed++ {
			t.Run(fmt.Sprintf("slow=%v/seed=%d", slow, seed), func(t *testing.T) {
				t.Parallel()
				c := newCoalescer(FrameInterval, 4)
				c.record = true
				abandon := make(chan struct{})
				done := make(chan struct{})
				go func() { defer close(done); c.run(abandon) }()
				want := feed(c, 3000, seed)
				got, deltas := drain(t, c, slow)
				<-done
				if got != want {
					t.Fatalf("got %d bytes, fed %d", len(got), len(want))
				}
				// The pump's own clock: when the receiver took each Delta.
				// (Timing the receiver instead would measure its
				// scheduling delays too.)
				if len(c.handedOver) != deltas {
					t.Fatalf("%d hand-overs recorded for %d Deltas", len(c.handedOver), deltas)
				}
				// The last Delta, right before Done, is not held back.
				for i := 1; i < len(c.handedOver)-1; i++ {
					if gap := c.handedOver[i].Sub(c.handedOver[i-1]); gap < FrameInterval {
						t.Errorf("Deltas %d and %d handed over %s apart; the interval is %s", i-1, i, gap, FrameInterval)
					}
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

// TestCoalescerIntervalNegativeControl: with no interval (the bug of
// sending every chunk as it comes), the hand-over check above sees gaps
// shorter than a frame.
func TestCoalescerIntervalNegativeControl(t *testing.T) {
	c := newCoalescer(0, 4)
	c.record = true
	done := make(chan struct{})
	go func() { defer close(done); c.run(make(chan struct{})) }()
	want := feed(c, 3000, 3)
	got, _ := drain(t, c, false)
	<-done
	if got != want {
		t.Fatal("text lost")
	}
	short := 0
	for i := 1; i < len(c.handedOver); i++ {
		if c.handedOver[i].Sub(c.handedOver[i-1]) < FrameInterval {
			short++
		}
	}
	if short == 0 {
		t.Fatal("no short gaps without an interval: the check cannot fail")
	}
}

// TestCoalescerFinalTextNotHeldBack: text held back for the interval goes
// out the moment the terminal event is queued (with or without other events
// between), not when the interval ends, so an interrupted reply shows its
// end at once. The interval is an hour: a pump that sat it out fails by the
// guard.
func TestCoalescerFinalTextNotHeldBack(t *testing.T) {
	for _, between := range []bool{false, true} {
		c := newCoalescer(time.Hour, 4)
		waiting := make(chan struct{}, 1)
		c.onWait = func() { waiting <- struct{}{} }
		done := make(chan struct{})
		go func() { defer close(done); c.run(make(chan struct{})) }()
		c.Text("first")
		if ev := <-c.out; ev != (Delta{Text: "first"}) {
			t.Fatalf("first event %#v", ev)
		}
		c.Text("held")
		<-waiting // the pump now holds "held" back for an hour
		if between {
			c.Event(Usage{PromptTokens: 1})
		}
		c.Event(Done{})
		r := collect(t, c.out)
		<-done
		if r.text != "held" {
			t.Fatalf("between=%v: events %#v", between, r.events)
		}
	}
}
