package transport_test

import (
	"context"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/spindle-sh/spindle/transport"
)

// The shape of one agent turn: the worker goroutine becomes the owner, the
// UI goroutine may call Abort at any moment, and the worker reaps and
// finishes on its own thread. (Compiled, not run: it needs an endpoint.)
func ExampleOwner() {
	interrupts := make(chan *transport.Owner, 1) // the UI keeps the owner to abort it
	done := make(chan struct{})
	go func() {
		defer close(done)
		o := transport.NewOwner(transport.Config{BaseURL: "https://api.example/v1", Model: "gpt-x"})
		interrupts <- o
		client := openai.NewClient(
			option.WithHTTPClient(o.Client()),
			option.WithBaseURL("https://api.example/v1"),
			option.WithAPIKey("key"),
			option.WithMaxRetries(0),
		)
		stream := client.Chat.Completions.NewStreaming(context.Background(), openai.ChatCompletionNewParams{
			Model:    "gpt-x",
			Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("hi")},
		})
		for stream.Next() {
			if _, aborted := o.Aborted(); aborted {
				break
			}
			// hand stream.Current() to the UI
		}
		err := stream.Err()
		_ = stream.Close()
		o.Reap()
		reason := transport.RequestComplete
		if r, aborted := o.Aborted(); aborted {
			reason = r // interrupted: decided by the flag, not by err
		} else if err != nil {
			reason = transport.RequestErrorCleanup
		}
		o.Finish(reason)
	}()
	// Elsewhere, on the UI goroutine: (<-interrupts).Abort(transport.InterruptAbort)
	_ = interrupts
	<-done
}
