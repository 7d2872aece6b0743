package agent

import (
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// backoff is spindle's retry policy for the time before the first token:
// jittered exponential backoff, honouring the server's Retry-After, bounded
// in both the number of attempts (set by the caller) and each wait.
type backoff struct {
	Base time.Duration // first wait before jitter
	Max  time.Duration // no single wait is longer, whatever the server asks
	// Jitter returns a number in [0,1); nil means math/rand/v2.
	Jitter func() float64
}

// defaultBackoff waits about 0.5 s, 1 s, 2 s ... up to 20 s.
var defaultBackoff = backoff{Base: 500 * time.Millisecond, Max: 20 * time.Second}

// Delay is the wait before retry number attempt (0 for the first retry).
// A Retry-After from the server wins when it is present and not absurd;
// otherwise the wait is "full jitter" over [d/2, d) with d = Base·2^attempt,
// so that many clients do not come back in lockstep.
func (b backoff) Delay(attempt int, retryAfter time.Duration) time.Duration {
	if retryAfter > 0 {
		return min(retryAfter, b.Max)
	}
	d := b.Base
	for i := 0; i < attempt && d < b.Max; i++ {
		d *= 2
	}
	d = min(d, b.Max)
	j := b.Jitter
	if j == nil {
		j = rand.Float64
	}
	half := d / 2
	return half + time.Duration(j()*float64(half))
}

// retryAfter reads the server's requested wait from a response: the
// non-standard retry-after-ms header (sent by OpenAI), then Retry-After as
// seconds or as an HTTP date. Zero means the server did not say.
func retryAfter(h http.Header, now time.Time) time.Duration {
	if h == nil {
		return 0
	}
	if v := strings.TrimSpace(h.Get("Retry-After-Ms")); v != "" {
		if ms, err := strconv.ParseFloat(v, 64); err == nil && ms > 0 {
			return time.Duration(ms * float64(time.Millisecond))
		}
	}
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	if s, err := strconv.ParseFloat(v, 64); err == nil {
		if s <= 0 {
			return 0
		}
		return time.Duration(s * float64(time.Second))
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d
		}
	}
	return 0
}
