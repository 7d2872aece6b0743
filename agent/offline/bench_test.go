package offline

import (
	"bufio"
	"bytes"
	"strings"
	"testing"
	"time"
)

// BenchmarkStreamZeroDelay measures how fast the server streams the long
// answer over loopback TLS with no pause between chunks: one op is one
// whole streamed completion, read to [DONE] by a plain HTTP/1.1 client.
//
//	go test -run '^$' -bench StreamZeroDelay -benchtime 200x ./agent/offline/
func BenchmarkStreamZeroDelay(b *testing.B) {
	s := startServer(b, fast, hooks{})
	hc := httpClient(b, s)
	body := `{"model":"m","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"Explain how streaming works"}]}`
	chunks, bytesRead := 0, 0
	b.ReportAllocs()
	start := time.Now()
	for b.Loop() {
		resp, err := hc.Post(s.BaseURL()+"/chat/completions", "application/json", strings.NewReader(body))
		if err != nil {
			b.Fatal(err)
		}
		r := bufio.NewReader(resp.Body)
		done := false
		for !done {
			line, err := r.ReadSlice('\n')
			if err != nil {
				b.Fatalf("read: %v", err)
			}
			bytesRead += len(line)
			if bytes.HasPrefix(line, []byte("data: ")) {
				chunks++
				done = bytes.Equal(line, []byte("data: [DONE]\n"))
			}
		}
		resp.Body.Close()
	}
	secs := time.Since(start).Seconds()
	b.ReportMetric(float64(chunks)/secs, "chunks/s")
	b.ReportMetric(float64(chunks)/float64(b.N), "chunks/op")
	b.ReportMetric(float64(bytesRead)/secs/1e6, "MB/s")
}

// BenchmarkPlanReply measures deciding and cutting up a long answer.
func BenchmarkPlanReply(b *testing.B) {
	req := chatRequest{Messages: []chatMessage{user("Explain how streaming works")}, Tools: []toolDef{kanbanCreateDef()}}
	b.ReportAllocs()
	for b.Loop() {
		planReply(&req)
	}
}
