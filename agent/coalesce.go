package agent

import (
	"sync"
	"time"
)

// FrameInterval is the least time between two Delta events of one turn:
// 20 a second. Text that arrives in between is merged, never dropped. A
// frame costs the same however much text it adds (Bubble Tea parses the
// whole screen again and diffs it: about 40 % of a paced stream's CPU at
// 30 frames a second), so while only text arrives, 20 frames a second read
// as smoothly as 60 at a third of the CPU; a key press is still drawn at
// the renderer's 60.
const FrameInterval = 50 * time.Millisecond

// coalescer sits between a turn's worker and the turn's event channel.
//
// The worker never blocks on the receiver: Text and Event only append to a
// queue under a mutex and wake the pump. One pump goroutine (run) sends the
// queue in order, merging adjacent text into one Delta and sending at most
// one Delta per interval (except that text queued before the terminal event
// goes at once, right before it). A slow receiver therefore makes Deltas bigger, not
// the stream slower, and no text is lost. The pump closes the channel after
// the terminal event; it is the channel's only sender and only closer.
type coalescer struct {
	interval time.Duration

	mu     sync.Mutex
	items  []item // in arrival order from index head; adjacent text is merged
	head   int
	spare  []byte // a drained text buffer, reused by the next text item
	closed bool   // a terminal event has been queued; nothing more is accepted

	wake  chan struct{} // capacity 1: "the queue changed"
	final chan struct{} // closed when the terminal event is queued
	out   chan Event

	// onWait, if set, is called by the pump each time it starts holding
	// text back for the interval (a test hook).
	onWait func()

	// handedOver, when record is set, gets the time each Delta was taken
	// by the receiver. Only the pump writes it; tests read it after run
	// returns.
	record     bool
	handedOver []time.Time
}

// item is one queued thing: text (ev == nil) or an event.
type item struct {
	ev   Event
	text []byte
}

func newCoalescer(interval time.Duration, buffer int) *coalescer {
	return &coalescer{
		interval: interval,
		wake:     make(chan struct{}, 1),
		final:    make(chan struct{}),
		out:      make(chan Event, buffer),
	}
}

// Text queues streamed text. Empty text is ignored.
func (c *coalescer) Text(s string) {
	if s == "" {
		return
	}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	if n := len(c.items); n > c.head && c.items[n-1].ev == nil {
		c.items[n-1].text = append(c.items[n-1].text, s...)
	} else {
		buf := append(c.spare[:0], s...)
		c.spare = nil
		c.items = append(c.items, item{text: buf})
	}
	c.mu.Unlock()
	c.signal()
}

// Event queues a non-text event. After a terminal event (Done, Interrupted,
// Failed) everything else is ignored, so a turn has exactly one.
func (c *coalescer) Event(ev Event) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	terminal := isTerminal(ev)
	c.closed = terminal
	c.items = append(c.items, item{ev: ev})
	c.mu.Unlock()
	if terminal {
		close(c.final)
	}
	c.signal()
}

func (c *coalescer) signal() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

func isTerminal(ev Event) bool {
	switch ev.(type) {
	case Done, Interrupted, Failed:
		return true
	}
	return false
}

// run is the pump. It returns after sending the terminal event, or when
// abandon is closed (the agent is shutting down and nobody reads any more).
// Either way it closes the channel.
func (c *coalescer) run(abandon <-chan struct{}) {
	defer close(c.out)
	var last time.Time
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for {
		c.mu.Lock()
		if c.head == len(c.items) {
			c.mu.Unlock()
			select {
			case <-c.wake:
				continue
			case <-abandon:
				return
			}
		}
		head := &c.items[c.head]
		if head.ev == nil {
			// The last text before the terminal event is not held back: the
			// terminal event makes the receiver render anyway, and an
			// interrupt should show its end at once.
			if wait := c.interval - time.Since(last); !last.IsZero() && wait > 0 && !c.finalText() {
				// A terminal event queued during the wait makes this text
				// final: stop waiting then. Once it is queued, the text
				// that waits is not the last, and waits the whole interval.
				final := c.final
				if c.closed {
					final = nil
				}
				c.mu.Unlock()
				if c.onWait != nil {
					c.onWait()
				}
				timer.Reset(wait)
				select {
				case <-timer.C:
				case <-final:
					timer.Stop()
				case <-abandon:
					timer.Stop()
					return
				}
				continue // the text may have grown meanwhile; take all of it
			}
			d := Delta{Text: string(head.text)}
			c.spare = head.text[:0]
			c.pop()
			c.mu.Unlock()
			if !c.send(d, abandon) {
				return
			}
			last = time.Now()
			if c.record {
				c.handedOver = append(c.handedOver, last)
			}
			continue
		}
		ev := head.ev
		c.pop()
		c.mu.Unlock()
		if !c.send(ev, abandon) || isTerminal(ev) {
			return
		}
	}
}

// finalText reports whether the head item is the last text of the turn:
// the terminal event is queued and only events follow it. The caller holds
// mu.
func (c *coalescer) finalText() bool {
	if !c.closed {
		return false
	}
	for _, it := range c.items[c.head+1:] {
		if it.ev == nil {
			return false
		}
	}
	return true
}

// pop removes the head item; the caller holds mu. When the queue empties
// its backing array is reused from the start.
func (c *coalescer) pop() {
	c.items[c.head] = item{}
	c.head++
	if c.head == len(c.items) {
		c.items = c.items[:0]
		c.head = 0
	}
}

func (c *coalescer) send(ev Event, abandon <-chan struct{}) bool {
	select {
	case c.out <- ev:
		return true
	case <-abandon:
		return false
	}
}
