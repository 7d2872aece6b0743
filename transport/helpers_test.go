package transport

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"go.uber.org/goleak"
	"golang.org/x/sys/unix"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// sseServer is a loopback HTTPS server that streams OpenAI chat-completions
// chunks until it has sent chunks of them (then [DONE]) or the client goes.
type sseServer struct {
	srv      *httptest.Server
	pace     time.Duration
	chunks   int
	accepted atomic.Int64 // TCP connections accepted
	requests atomic.Int64
	protos   sync.Map // proto string -> struct{}
}

// newSSEServer starts a TLS server; pace is the delay between chunks and
// chunks the number of content chunks before [DONE] (0 = unbounded).
func newSSEServer(t testing.TB, pace time.Duration, chunks int, http2 bool) *sseServer {
	t.Helper()
	s := &sseServer{pace: pace, chunks: chunks}
	s.srv = httptest.NewUnstartedServer(http.HandlerFunc(s.handle))
	s.srv.EnableHTTP2 = http2
	s.srv.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			s.accepted.Add(1)
		}
	}
	s.srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	s.srv.StartTLS()
	t.Cleanup(s.srv.Close)
	return s
}

func (s *sseServer) baseURL() string { return s.srv.URL + "/v1/" }

func (s *sseServer) tlsConfig() *tls.Config {
	pool := x509.NewCertPool()
	pool.AddCert(s.srv.Certificate())
	return &tls.Config{RootCAs: pool}
}

func (s *sseServer) handle(w http.ResponseWriter, r *http.Request) {
	s.requests.Add(1)
	s.protos.Store(r.Proto, struct{}{})
	if r.URL.Path != "/v1/chat/completions" {
		http.NotFound(w, r)
		return
	}
	fl, _ := w.(http.Flusher)
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	if fl != nil {
		fl.Flush()
	}
	var timer *time.Timer
	if s.pace > 0 {
		timer = time.NewTimer(s.pace)
		defer timer.Stop()
	}
	for i := 0; s.chunks == 0 || i < s.chunks; i++ {
		if timer != nil && i > 0 {
			select {
			case <-r.Context().Done():
				return
			case <-timer.C:
				timer.Reset(s.pace)
			}
		} else if r.Context().Err() != nil {
			return
		}
		_, err := fmt.Fprintf(w, "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"test-model\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"tok%d \"},\"finish_reason\":null}]}\n\n", i)
		if err != nil {
			return
		}
		if fl != nil {
			fl.Flush()
		}
	}
	fmt.Fprint(w, "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"test-model\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n")
	fmt.Fprint(w, "data: [DONE]\n\n")
	if fl != nil {
		fl.Flush()
	}
}

// newChatClient builds an openai-go client on the owner's HTTP client.
func newChatClient(o *Owner, s *sseServer) openai.Client {
	return openai.NewClient(
		option.WithHTTPClient(o.Client()),
		option.WithBaseURL(s.baseURL()),
		option.WithAPIKey("test"),
		option.WithMaxRetries(0),
	)
}

func chatParams() openai.ChatCompletionNewParams {
	return openai.ChatCompletionNewParams{
		Model:    "test-model",
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("hello")},
	}
}

// logRecord is one captured slog record.
type logRecord struct {
	Level slog.Level
	Msg   string
	Attrs map[string]string
}

// captureHandler records every slog record; safe for concurrent use.
type captureHandler struct {
	mu      *sync.Mutex
	records *[]logRecord
}

func newCapture() (*slog.Logger, *captureHandler) {
	h := &captureHandler{mu: new(sync.Mutex), records: new([]logRecord)}
	return slog.New(h), h
}

func (h *captureHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h *captureHandler) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h *captureHandler) WithGroup(string) slog.Handler            { return h }
func (h *captureHandler) Handle(_ context.Context, r slog.Record) error {
	rec := logRecord{Level: r.Level, Msg: r.Message, Attrs: map[string]string{}}
	r.Attrs(func(a slog.Attr) bool {
		rec.Attrs[a.Key] = a.Value.String()
		return true
	})
	h.mu.Lock()
	*h.records = append(*h.records, rec)
	h.mu.Unlock()
	return nil
}

func (h *captureHandler) all() []logRecord {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]logRecord(nil), *h.records...)
}

// countFDs returns the number of open descriptors of this process.
func countFDs(t testing.TB) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatalf("read /proc/self/fd: %v", err)
	}
	return len(ents) - 1 // ReadDir's own descriptor
}

// warmNetpoll makes the runtime create its poller descriptors before a
// test takes its descriptor baseline.
func warmNetpoll(t testing.TB) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln.Close()
}

// waitFDs waits until the descriptor count is back to want (server-side
// sockets close asynchronously), and fails if it never gets there.
func waitFDs(t testing.TB, want int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	var got int
	for {
		got = countFDs(t)
		if got == want || time.Now().After(deadline) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	if got != want {
		t.Errorf("descriptor leak: %d open, want %d", got, want)
	}
}

// tidRecorder is an OnRealClose hook that remembers every tid.
type tidRecorder struct {
	mu   sync.Mutex
	tids []int
}

func (r *tidRecorder) hook(tid int) {
	r.mu.Lock()
	r.tids = append(r.tids, tid)
	r.mu.Unlock()
}

func (r *tidRecorder) get() []int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]int(nil), r.tids...)
}

// stranger is a goroutine locked to its own thread that runs functions on
// request; it stands in for the UI goroutine that interrupts a stream.
type stranger struct {
	tid  int
	reqs chan func()
	done chan struct{}
}

func startStranger() *stranger {
	s := &stranger{reqs: make(chan func()), done: make(chan struct{})}
	ready := make(chan int)
	go func() {
		defer close(s.done)
		runtime.LockOSThread()
		ready <- unix.Gettid()
		for f := range s.reqs {
			f()
		}
	}()
	s.tid = <-ready
	return s
}

// do runs f on the stranger's thread and waits for it.
func (s *stranger) do(f func()) {
	ch := make(chan struct{})
	s.reqs <- func() { f(); close(ch) }
	<-ch
}

// post runs f on the stranger's thread without waiting.
func (s *stranger) post(f func()) { s.reqs <- f }

func (s *stranger) stop() {
	close(s.reqs)
	<-s.done
}

const (
	slogInfo = slog.LevelInfo
	slogWarn = slog.LevelWarn
)

func containsAll(s string, words ...string) bool {
	for _, w := range words {
		if !strings.Contains(s, w) {
			return false
		}
	}
	return true
}

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }
