package main

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestRunAgainstAServerThatNeverStops: `spindle run` against a loopback
// server that streams valid tokens forever and never sends [DONE] stops at
// the reply limit (4 MiB by default): it exits non-zero, says why on
// stderr, and its peak RSS stays far under 300 MB. The control: the
// server really had more to send when spindle went (it saw the client
// leave, not its own end).
func TestRunAgainstAServerThatNeverStops(t *testing.T) {
	bin := spindleBin(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu       sync.Mutex
		sent     int64
		clientGo bool
	)
	handlerDone := make(chan struct{}, 1)
	chunk := []byte(`data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"endless","choices":[{"index":0,"delta":{"content":"all work and no play makes a very long reply "},"finish_reason":null}]}` + "\n\n")
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		flusher, _ := w.(http.Flusher)
		var n int64
		defer func() {
			mu.Lock()
			sent += n
			mu.Unlock()
			select {
			case handlerDone <- struct{}{}:
			default: // a second request: the first one's end is what counts
			}
		}()
		for {
			for range 64 {
				if _, err := w.Write(chunk); err != nil {
					mu.Lock()
					clientGo = true
					mu.Unlock()
					return
				}
				n += int64(len(chunk))
			}
			flusher.Flush()
			if r.Context().Err() != nil {
				mu.Lock()
				clientGo = true
				mu.Unlock()
				return
			}
		}
	})}
	var wg sync.WaitGroup
	wg.Go(func() { _ = srv.Serve(ln) })
	t.Cleanup(func() {
		_ = srv.Close()
		wg.Wait()
	})

	e := newRunEnv(t, bin)
	e.extra = []string{"OPENAI_BASE_URL=http://" + ln.Addr().String() + "/v1", "OPENAI_API_KEY=sk-test-endless-0123456789", "SPINDLE_MODEL=endless"}
	cmd := e.command("run", "tell me everything")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	done := make(chan error, 1)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { done <- cmd.Wait() }()
	select {
	case err = <-done:
	case <-time.After(2 * time.Minute):
		_ = cmd.Process.Kill()
		<-done
		t.Fatalf("spindle run was still reading after 2 minutes; stdout %d bytes", stdout.Len())
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() == 0 {
		t.Fatalf("spindle run exited %v against an endless stream; stderr %q", err, stderr.String())
	}
	if !strings.Contains(stderr.String(), "the reply passed the 4 MiB limit (max_reply_bytes)") {
		t.Errorf("stderr does not give the reason: %q", stderr.String())
	}
	if stdout.Len() < 3<<20 || stdout.Len() > 5<<20 {
		t.Errorf("stdout holds %d bytes; want the reply up to the 4 MiB limit", stdout.Len())
	}
	ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok || ru.Maxrss <= 0 {
		t.Fatal("no peak RSS for the child")
	}
	peakMB := float64(ru.Maxrss) / 1024 // Linux reports KiB
	t.Logf("peak RSS %.0f MB, %s", peakMB, fmt.Sprint(cmd.ProcessState))
	if peakMB >= 300 {
		t.Errorf("peak RSS %.0f MB, want under 300 MB", peakMB)
	}

	// The control: the server was cut off by the client, mid-stream (the
	// server is still open: only spindle can have left).
	select {
	case <-handlerDone:
	case <-time.After(30 * time.Second):
		t.Fatal("control: the server's stream did not end after spindle exited")
	}
	mu.Lock()
	defer mu.Unlock()
	if !clientGo || sent < 4<<20 {
		t.Errorf("control: the server sent %d bytes and saw the client leave: %v", sent, clientGo)
	}
}
