// Command spindle is a full-screen terminal agent shell: a chat pane that
// streams an LLM's reply and a kanban board, both in one terminal.
package main

import "os"

func main() {
	os.Exit(execute(os.Args[1:]))
}
