package offline

// The demo model's answers. They are fixed text, so that a recorded demo
// shows the same reply every time; which variant a prompt gets depends only
// on the prompt. Each long answer is 550 to 700 words with a Go block of 10
// to 15 lines: 6 to 10 seconds at the default pace.

// longAnswers are the answers to anything that is not a greeting, a request
// for a short answer or a card.
var longAnswers = []string{
	"# Streaming a reply, one chunk at a time\n" +
		"\n" +
		"A chat model rarely answers in one piece. The server writes its reply as a stream of small **server-sent events**, " +
		"and the client shows each piece the moment it arrives. That is why the text seems to type itself, and why you can " +
		"stop it halfway through without waiting for the end.\n" +
		"\n" +
		"## What travels on the wire\n" +
		"\n" +
		"Every event is a line that starts with `data:`, followed by a JSON object and a blank line. The object carries a " +
		"*delta*: the few words the model produced since the previous event. When the model has finished, the server sends " +
		"one more chunk with a `finish_reason`, an optional usage report, and the literal line `data: [DONE]`.\n" +
		"\n" +
		"A careful client keeps a few rules in mind:\n" +
		"\n" +
		"- **Append, never replace.** Each delta continues the last one, so the whole reply is every piece, in order.\n" +
		"- **Flush often.** A proxy that buffers the stream turns a lively answer into one late block of text.\n" +
		"- **Expect the end to be missing.** A connection can drop at any moment; a reply without `[DONE]` is cut short, not finished.\n" +
		"- **Keep what arrived.** An interrupted answer is still useful, so spindle saves it and marks it as interrupted.\n" +
		"\n" +
		"## Reading the stream in Go\n" +
		"\n" +
		"The function below reads events from a response body and hands each payload to a callback. It is small on " +
		"purpose: the hard part of streaming is not parsing, it is deciding who owns the connection and what happens " +
		"when somebody presses Ctrl-C in the middle of a sentence.\n" +
		"\n" +
		"```go\n" +
		"func readEvents(body io.Reader, onData func(string)) error {\n" +
		"\tsc := bufio.NewScanner(body)\n" +
		"\tfor sc.Scan() {\n" +
		"\t\tdata, ok := strings.CutPrefix(sc.Text(), \"data: \")\n" +
		"\t\tif !ok {\n" +
		"\t\t\tcontinue // blank separators and comments\n" +
		"\t\t}\n" +
		"\t\tif data == \"[DONE]\" {\n" +
		"\t\t\treturn nil\n" +
		"\t\t}\n" +
		"\t\tonData(data)\n" +
		"\t}\n" +
		"\treturn errors.Join(io.ErrUnexpectedEOF, sc.Err())\n" +
		"}\n" +
		"```\n" +
		"\n" +
		"Notice what the function does *not* do. It never closes the body, because the body belongs to whoever made the " +
		"request. It never retries, because a retry after text has been shown would repeat words the reader has already " +
		"seen. And it treats a stream that ends without `[DONE]` as an error, because a silent end and a finished answer " +
		"look exactly the same to a careless reader.\n" +
		"\n" +
		"## Why the pace matters\n" +
		"\n" +
		"This demo model sends roughly forty chunks a second, each one to four words long. That is close to what a hosted " +
		"model does on a good day, and it is slow enough that you can watch the spinner, read along, and interrupt. Try it " +
		"now: press **Ctrl-C** or **Esc** while this answer is still arriving. The text that made it to the screen stays, " +
		"the message is marked *interrupted*, and the connection is shut down by the thread that owns it.\n" +
		"\n" +
		"That last detail is the reason spindle exists. An interrupt arrives on a different thread from the one reading the " +
		"socket. If the interrupting thread simply closed the socket, the operating system could hand the same descriptor " +
		"number to the next file that gets opened, and a late write from the reader would land in that file instead. " +
		"spindle only *shuts down* the connection from the stranger thread and leaves the real close to the owner.\n" +
		"\n" +
		"When you are ready, ask for something shorter, or say *add a card called \"Read about SSE\"* and watch the board.\n",

	"# Interrupting a request without hurting anyone\n" +
		"\n" +
		"Stopping a streaming reply sounds trivial: close the connection and move on. In practice the interrupt arrives " +
		"on one thread while another thread is blocked reading the socket, and the order in which they let go of it " +
		"decides whether the rest of the program stays healthy.\n" +
		"\n" +
		"## The bug this guards against\n" +
		"\n" +
		"A file descriptor is just a small number. When a thread closes one, the kernel is free to give that number to the " +
		"very next `open()`. If the interrupt handler closes the socket while the reader still holds the old number, the " +
		"reader's last TLS write can land in whatever file was opened next. In one real incident that file was a SQLite " +
		"database, and twenty-four bytes of a TLS record overwrote the start of its header.\n" +
		"\n" +
		"The rules that prevent it are short:\n" +
		"\n" +
		"- **One owner per socket.** The goroutine that dials a connection, locked to its OS thread, is the only one that closes it.\n" +
		"- **Strangers shut down, they never close.** An interrupt calls `shutdown` on the socket, which wakes the reader at once but keeps the number reserved.\n" +
		"- **The owner cleans up.** When the blocked read returns, the owner unwinds and performs the one real close itself.\n" +
		"- **Decide by flag, not by error.** Whether a turn was interrupted is read from the abort flag, never guessed from an error message.\n" +
		"\n" +
		"## The shape of the owner\n" +
		"\n" +
		"Here is the skeleton of a worker that owns its connections. Everything that can close a socket funnels back to " +
		"the same goroutine, and the deferred cleanup runs there no matter how the stream ended.\n" +
		"\n" +
		"```go\n" +
		"func (w *worker) run(ctx context.Context, req *http.Request) error {\n" +
		"\truntime.LockOSThread()\n" +
		"\tdefer runtime.UnlockOSThread()\n" +
		"\tdefer w.owner.Finish() // the only real close(2) happens here\n" +
		"\n" +
		"\tresp, err := w.owner.Client().Do(req.WithContext(ctx))\n" +
		"\tif err != nil {\n" +
		"\t\treturn fmt.Errorf(\"agent: request: %w\", err)\n" +
		"\t}\n" +
		"\tdefer resp.Body.Close()\n" +
		"\treturn w.readStream(resp.Body)\n" +
		"}\n" +
		"```\n" +
		"\n" +
		"The interesting part is what is missing: no raw descriptor is ever stored, passed around or closed by hand. Go's " +
		"own network code already counts references to a descriptor, so the danger only comes back when code caches the " +
		"number somewhere. The tests still include a deliberately unsafe mode that does exactly that, and they check that " +
		"the harness notices the corruption. A test that cannot see the bug proves nothing.\n" +
		"\n" +
		"The same discipline covers idle connections. The HTTP client keeps finished connections for reuse and closes " +
		"them from its own goroutines when they time out or when a response body is dropped early. spindle's transport " +
		"turns each of those closes into a mark and a shutdown as well, and the owner reaps the marked connections after " +
		"every stream. One socket, one owner, exactly one real close.\n" +
		"\n" +
		"## How fast is fast enough\n" +
		"\n" +
		"An interrupt should feel instant. On a loopback connection the blocked read returns within microseconds of the " +
		"shutdown, and the whole path from key press to a quiet stream stays well under a millisecond. That matters less " +
		"for the number itself than for what it tells you: nothing is waiting on a timer, nothing is polling, and nothing " +
		"is left running after the stream has stopped.\n" +
		"\n" +
		"You can try it right here. This answer is long on purpose; press **Ctrl-C** before it ends and the partial text " +
		"will stay on screen, saved and marked as interrupted. Then ask again, or ask me to *add a card* for whatever you " +
		"were about to do next, and the board on the right will pick it up.\n",

	"# Keeping the board and the chat in step\n" +
		"\n" +
		"A kanban board is only useful if it tells the truth. When both you and an agent can move cards, every change has " +
		"to be written at once, survive a crash, and show up in every open window without anybody pressing refresh.\n" +
		"\n" +
		"## Where the cards live\n" +
		"\n" +
		"spindle keeps the board in a single SQLite file, `kanban.db`, in write-ahead-log mode. Each card has a title, a " +
		"body, a column, a position inside that column, a priority and an assignee. Every change also writes an event, so " +
		"the history of a card can be shown and the latest change can be undone exactly.\n" +
		"\n" +
		"A few habits keep that file healthy:\n" +
		"\n" +
		"- **Check the header first.** Before SQLite touches the file, spindle reads its first hundred bytes and refuses anything that does not look like a database.\n" +
		"- **One writer, many readers.** A single connection writes; the others only read, so there is never a fight over the lock.\n" +
		"- **Transactions that start immediately.** A write takes the lock up front instead of upgrading halfway and failing.\n" +
		"- **Backups with `VACUUM INTO`.** Copying a live database file byte by byte can capture a half-written page.\n" +
		"\n" +
		"## Moving a card\n" +
		"\n" +
		"Moving a card is the most common write, and it touches two columns at once: the gap it leaves behind closes and " +
		"the column it enters makes room. Doing both in one transaction keeps positions dense, so the board never shows a " +
		"hole or two cards in the same slot.\n" +
		"\n" +
		"```go\n" +
		"func moveCard(ctx context.Context, tx *sql.Tx, id int64, to string, pos int) error {\n" +
		"\tvar from string\n" +
		"\tvar old int\n" +
		"\terr := tx.QueryRowContext(ctx, `SELECT status, position FROM cards WHERE id = ?`, id).Scan(&from, &old)\n" +
		"\tif err != nil {\n" +
		"\t\treturn fmt.Errorf(\"move card %d: %w\", id, err)\n" +
		"\t}\n" +
		"\t_, err = tx.ExecContext(ctx, `UPDATE cards SET position = position - 1 WHERE status = ? AND position > ?`, from, old)\n" +
		"\tif err == nil {\n" +
		"\t\t_, err = tx.ExecContext(ctx, `UPDATE cards SET position = position + 1 WHERE status = ? AND position >= ?`, to, pos)\n" +
		"\t}\n" +
		"\treturn err\n" +
		"}\n" +
		"```\n" +
		"\n" +
		"The last step, writing the card's new column and position, is left out to keep the example short. In spindle it " +
		"happens in the same transaction, together with the event that makes the move undoable. If the process is killed " +
		"at any moment, the database holds either the old board or the new one, never a mixture of both.\n" +
		"\n" +
		"## Seeing other people's changes\n" +
		"\n" +
		"Several spindle windows can share one board. Each of them asks SQLite for its `data_version` about once a " +
		"second; the number changes whenever another connection commits, and only then does the window reload its " +
		"cards. That costs next to nothing while idle and feels immediate when somebody else moves a card.\n" +
		"\n" +
		"The agent uses the same store through its tools. When you ask me to *add a card called \"Plan the release\"*, I do " +
		"not write to the file myself: I ask for the `kanban_create` tool, spindle runs it against the real board, and " +
		"the result comes back to me so that I can tell you what happened. You will see the card appear on the right while " +
		"this conversation continues. And if this answer is taking too long, press **Ctrl-C**: whatever arrived so far " +
		"stays, saved and marked as interrupted.\n",
}

// shortAnswers are the answers to greetings and requests for something short.
var shortAnswers = []string{
	"Hello! I'm spindle's **demo model**, running offline inside this process: no key and no network needed.\n" +
		"\n" +
		"- Ask me anything for a long answer with code, and press **Ctrl-C** to interrupt it.\n" +
		"- Say *add a card called \"Try spindle\"* and I'll put it on the board.\n" +
		"\n" +
		"Set `OPENAI_BASE_URL` and `OPENAI_API_KEY` to talk to a real model instead.\n",

	"Hi! This is the **offline demo model**: it answers from a script, but it streams like the real thing.\n" +
		"\n" +
		"1. Ask a longer question to watch a reply stream in, with markdown and a Go code block.\n" +
		"2. Ask me to *add a card* and I'll call the `kanban_create` tool for you.\n" +
		"\n" +
		"Press **Tab** to switch between the chat and the board.\n",

	"Short and sweet: I'm spindle's **built-in demo model**, and everything I say comes from this binary.\n" +
		"\n" +
		"- `add a card called \"Ship it\"` puts a card on the board.\n" +
		"- Anything else gets a long answer you can stop with **Ctrl-C**.\n" +
		"\n" +
		"Point `OPENAI_BASE_URL` at a real endpoint whenever you like.\n",
}

// Templates for the short answers that are not scripted.
const (
	// needTitleText answers "add a card" without a title.
	needTitleText = "I can add that card, but it needs a title. Try:\n" +
		"\n" +
		"> add a card called \"Write the release notes\"\n"

	// noToolText answers a card request when kanban_create is not offered
	// (title, tool name).
	noToolText = "I would add a card titled **%s**, but this conversation does not offer the `%s` tool, " +
		"so I cannot reach the board from here.\n"

	// cardDoneText confirms a created card (title, " as card #ID" or "",
	// " in *status*" or "").
	cardDoneText = "Done: **%s** is on the board%s%s.\n" +
		"\n" +
		"Ask me for another card, or move this one along when you start on it.\n"

	// toolErrorText reports a failed tool (tool, message).
	toolErrorText = "The `%s` tool failed: %s\n" +
		"\n" +
		"Nothing was changed. Tell me what to fix and I'll try again.\n"

	// toolListText summarises a list result (tool, count).
	toolListText = "The `%s` tool returned %d item(s); they are on the board to your right.\n"

	// toolEmptyText reports an empty result (tool).
	toolEmptyText = "The `%s` tool finished without saying anything, so I assume it worked.\n"

	// toolOtherText quotes any other result (tool, result).
	toolOtherText = "The `%s` tool answered: %s\n"
)
