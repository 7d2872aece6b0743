package offline

// The demo model's answers. They are fixed text, so that a recorded demo
// shows the same reply every time; which answer a prompt gets depends only
// on the request (topics.go says how). Each long answer is 600 to 750 words
// with headings, a list and one Go block of 10 to 15 lines: 6 to 10 seconds
// at the default pace, long enough to interrupt. The short topic answers are
// 100 to 250 words; the greetings about a second.

// The long answers.
const (
	// longStreaming explains server-sent events and how a client reads them.
	longStreaming = "# Streaming a reply, one chunk at a time\n" +
		"\n" +
		"A chat model rarely answers in one piece. The server writes its reply as a stream of small **server-sent " +
		"events**, and the client shows each piece the moment it arrives. That is why the text seems to type itself, " +
		"and why you can stop it halfway through without waiting for the end.\n" +
		"\n" +
		"## What travels on the wire\n" +
		"\n" +
		"Every event is a line that starts with `data:`, followed by a JSON object and a blank line. The object " +
		"carries a *delta*: the few words the model produced since the previous event. When the model has finished, " +
		"the server sends one more chunk with a `finish_reason`, an optional usage report, and the literal line `data: " +
		"[DONE]`.\n" +
		"\n" +
		"A careful client keeps a few rules in mind:\n" +
		"\n" +
		"- **Append, never replace.** Each delta continues the last one, so the whole reply is every piece, in order.\n" +
		"- **Flush often.** A proxy that buffers the stream turns a lively answer into one late block of text.\n" +
		"- **Expect the end to be missing.** A connection can drop at any moment; a reply without `[DONE]` is cut " +
		"short, not finished.\n" +
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
		"Notice what the function does *not* do. It never closes the body, because the body belongs to whoever made " +
		"the request. It never retries, because a retry after text has been shown would repeat words the reader has " +
		"already seen. And it treats a stream that ends without `[DONE]` as an error, because a silent end and a " +
		"finished answer look exactly the same to a careless reader.\n" +
		"\n" +
		"Real clients add two more habits. They ask for a final usage chunk with `stream_options.include_usage`, so " +
		"that the token counts arrive after the text, and they watch the clock: a stream that sends nothing for too " +
		"long is probably stuck, and spindle aborts it through the same path as Ctrl-C, with the reason `stale_abort`.\n" +
		"\n" +
		"## Why the pace matters\n" +
		"\n" +
		"This demo model sends roughly forty chunks a second, each one to four words long. That is close to what a " +
		"hosted model does on a good day, and it is slow enough that you can watch the spinner, read along, and " +
		"interrupt. Try it now: press **Ctrl-C** or **Esc** while this answer is still arriving. The text that made it " +
		"to the screen stays, the message is marked *interrupted*, and the connection is shut down by the thread that " +
		"owns it.\n" +
		"\n" +
		"That last detail is the reason spindle exists. An interrupt arrives on a different thread from the one " +
		"reading the socket. If the interrupting thread simply closed the socket, the operating system could hand the " +
		"same descriptor number to the next file that gets opened, and a late write from the reader would land in that " +
		"file instead. spindle only *shuts down* the connection from the stranger thread and leaves the real close to " +
		"the owner.\n" +
		"\n" +
		"When you are ready, ask for something shorter, or say *add a card called \"Read about SSE\"* and watch the board.\n"

	// longInterrupt explains the owner rule that makes interrupts safe.
	longInterrupt = "# Interrupting a request without hurting anyone\n" +
		"\n" +
		"Stopping a streaming reply sounds trivial: close the connection and move on. In practice the interrupt " +
		"arrives on one thread while another thread is blocked reading the socket, and the order in which they let go " +
		"of it decides whether the rest of the program stays healthy.\n" +
		"\n" +
		"## The bug this guards against\n" +
		"\n" +
		"A file descriptor is just a small number. When a thread closes one, the kernel is free to give that number to " +
		"the very next `open()`. If the interrupt handler closes the socket while the reader still holds the old " +
		"number, the reader's last TLS write can land in whatever file was opened next. In one real incident that file " +
		"was a SQLite database, and twenty-four bytes of a TLS record overwrote the start of its header.\n" +
		"\n" +
		"The rules that prevent it are short:\n" +
		"\n" +
		"- **One owner per socket.** The goroutine that dials a connection, locked to its OS thread, is the only one " +
		"that closes it.\n" +
		"- **Strangers shut down, they never close.** An interrupt calls `shutdown` on the socket, which wakes the " +
		"reader at once but keeps the number reserved.\n" +
		"- **The owner cleans up.** When the blocked read returns, the owner unwinds and performs the one real close " +
		"itself.\n" +
		"- **Decide by flag, not by error.** Whether a turn was interrupted is read from the abort flag, never guessed " +
		"from an error message.\n" +
		"\n" +
		"## The shape of the owner\n" +
		"\n" +
		"Here is the skeleton of a worker that owns its connections. Everything that can close a socket funnels back " +
		"to the same goroutine, and the deferred cleanup runs there no matter how the stream ended.\n" +
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
		"The interesting part is what is missing: no raw descriptor is ever stored, passed around or closed by hand. " +
		"Go's own network code already counts references to a descriptor, so the danger only comes back when code " +
		"caches the number somewhere. The tests still include a deliberately unsafe mode that does exactly that, and " +
		"they check that the harness notices the corruption. A test that cannot see the bug proves nothing.\n" +
		"\n" +
		"The same discipline covers idle connections. The HTTP client keeps finished connections for reuse and closes " +
		"them from its own goroutines when they time out or when a response body is dropped early. spindle's transport " +
		"turns each of those closes into a mark and a shutdown as well, and the owner reaps the marked connections " +
		"after every stream. One socket, one owner, exactly one real close.\n" +
		"\n" +
		"## How fast is fast enough\n" +
		"\n" +
		"An interrupt should feel instant. On a loopback connection the blocked read returns within microseconds of " +
		"the shutdown, and the whole path from key press to a quiet stream stays well under a millisecond. That " +
		"matters less for the number itself than for what it tells you: nothing is waiting on a timer, nothing is " +
		"polling, and nothing is left running after the stream has stopped.\n" +
		"\n" +
		"The benchmark that guards this figure runs many interrupts in a row and reports the median and the 99th " +
		"percentile, because an interrupt that is usually instant but sometimes hangs for a second feels broken, " +
		"however good its average looks.\n" +
		"\n" +
		"You can try it right here. This answer is long on purpose; press **Ctrl-C** before it ends and the partial " +
		"text will stay on screen, saved and marked as interrupted. Then ask again, or ask me to *add a card* for " +
		"whatever you were about to do next, and the board on the right will pick it up.\n"

	// longStorage explains how the board is kept in SQLite.
	longStorage = "# Keeping the board and the chat in step\n" +
		"\n" +
		"A kanban board is only useful if it tells the truth. When both you and an agent can move cards, every change " +
		"has to be written at once, survive a crash, and show up in every open window without anybody pressing refresh.\n" +
		"\n" +
		"## Where the cards live\n" +
		"\n" +
		"spindle keeps the board in a single SQLite file, `kanban.db`, in write-ahead-log mode. Each card has a title, " +
		"a body, a column, a position inside that column, a priority and an assignee. Every change also writes an " +
		"event, so the history of a card can be shown and the latest change can be undone exactly.\n" +
		"\n" +
		"A few habits keep that file healthy:\n" +
		"\n" +
		"- **Check the header first.** Before SQLite touches the file, spindle reads its first hundred bytes and " +
		"refuses anything that does not look like a database.\n" +
		"- **One writer, many readers.** A single connection writes; the others only read, so there is never a fight " +
		"over the lock.\n" +
		"- **Transactions that start immediately.** A write takes the lock up front instead of upgrading halfway and " +
		"failing.\n" +
		"- **Backups with `VACUUM INTO`.** Copying a live database file byte by byte can capture a half-written page.\n" +
		"\n" +
		"## Moving a card\n" +
		"\n" +
		"Moving a card is the most common write, and it touches two columns at once: the gap it leaves behind closes " +
		"and the column it enters makes room. Doing both in one transaction keeps positions dense, so the board never " +
		"shows a hole or two cards in the same slot.\n" +
		"\n" +
		"```go\n" +
		"func moveCard(ctx context.Context, tx *sql.Tx, id int64, to string, pos int) error {\n" +
		"\tvar from string\n" +
		"\tvar old int\n" +
		"\terr := tx.QueryRowContext(ctx, `SELECT status, position FROM cards WHERE id = ?`, id).Scan(&from, &old)\n" +
		"\tif err != nil {\n" +
		"\t\treturn fmt.Errorf(\"move card %d: %w\", id, err)\n" +
		"\t}\n" +
		"\t_, err = tx.ExecContext(ctx, `UPDATE cards SET position = position - 1 WHERE status = ? AND position > ?`, " +
		"from, old)\n" +
		"\tif err == nil {\n" +
		"\t\t_, err = tx.ExecContext(ctx, `UPDATE cards SET position = position + 1 WHERE status = ? AND position >= ?`, " +
		"to, pos)\n" +
		"\t}\n" +
		"\treturn err\n" +
		"}\n" +
		"```\n" +
		"\n" +
		"The last step, writing the card's new column and position, is left out to keep the example short. In spindle " +
		"it happens in the same transaction, together with the event that makes the move undoable. If the process is " +
		"killed at any moment, the database holds either the old board or the new one, never a mixture of both.\n" +
		"\n" +
		"Undo works the same way in reverse. Each event records what the card looked like before the change, so " +
		"undoing a move writes the old column and position back in one transaction, and records that as an event too. " +
		"Your undo only ever touches your own changes, never the agent's or a worker's.\n" +
		"\n" +
		"## Seeing other people's changes\n" +
		"\n" +
		"Several spindle windows can share one board. Each of them asks SQLite for its `data_version` about once a " +
		"second; the number changes whenever another connection commits, and only then does the window reload its " +
		"cards. That costs next to nothing while idle and feels immediate when somebody else moves a card.\n" +
		"\n" +
		"The agent uses the same store through its tools. When you ask me to *add a card called \"Plan the release\"*, I " +
		"do not write to the file myself: I ask for the `kanban_create` tool, spindle runs it against the real board, " +
		"and the result comes back to me so that I can tell you what happened. You will see the card appear on the " +
		"right while this conversation continues. And if this answer is taking too long, press **Ctrl-C**: whatever " +
		"arrived so far stays, saved and marked as interrupted.\n"

	// longStory tells the story of the bug that spindle exists to prevent.
	longStory = "# The twenty-four bytes\n" +
		"\n" +
		"*A story about a bug, told the way the people who chased it like to remember it.*\n" +
		"\n" +
		"## Tuesday, late\n" +
		"\n" +
		"The board would not open. The agent had been running all afternoon, moving cards and streaming answers. Then " +
		"somebody pressed Ctrl-C on a reply that was taking too long, and the next start failed with a message nobody " +
		"had seen before: the database file was not a database.\n" +
		"\n" +
		"Mara, who looked after the tool, copied the file before touching anything. That habit saved the week. She " +
		"opened the copy in a hex viewer and stared at the first line. A healthy SQLite file begins with the sixteen " +
		"bytes `SQLite format 3` and a zero. This one began with the right five bytes and then went wrong: `17 03 03 " +
		"00 13`, nineteen bytes of noise, and only then the rest of a perfectly ordinary header.\n" +
		"\n" +
		"## What the bytes said\n" +
		"\n" +
		"Ben recognised the pattern first, because he had spent a year reading packet captures. `17` is the TLS record " +
		"type for application data, and in TLS 1.3 every encrypted record travels under it, alerts included. `03 03` " +
		"is the version field every record carries. `00 13` is a length: nineteen bytes, exactly an encrypted alert, " +
		"two bytes of alert, one byte of inner type and a sixteen-byte tag. Twenty-four bytes in all: a connection " +
		"saying goodbye, written at byte offset five of a database file.\n" +
		"\n" +
		"Nobody writes TLS records into files on purpose. Something had written to the wrong descriptor.\n" +
		"\n" +
		"The list of suspects was short:\n" +
		"\n" +
		"- the HTTP client, whose connection had just been interrupted;\n" +
		"- the interrupt handler, which ran on a different thread from the reader;\n" +
		"- SQLite, which had opened `kanban.db` a moment later;\n" +
		"- the kernel, which hands the lowest free descriptor number to the next `open()`.\n" +
		"\n" +
		"## The sequence\n" +
		"\n" +
		"They rebuilt it on a whiteboard. The reader thread was blocked in a TLS read on descriptor 7. The interrupt " +
		"handler, on another thread, closed descriptor 7 to wake it up. In the microseconds that followed, the board " +
		"reopened its database, and the kernel handed it the lowest free number: 7. Then the reader woke up and, " +
		"before it noticed anything was wrong, flushed its goodbye to the number it still had cached.\n" +
		"\n" +
		"The write went through. It was a valid write to a valid descriptor. The descriptor just belonged to a " +
		"different file now.\n" +
		"\n" +
		"## The fix, in one rule\n" +
		"\n" +
		"The fix was not a lock or a retry. It was a rule about ownership: only the thread that opened a socket may " +
		"close it. Everybody else may only shut it down, which wakes the reader at once but keeps the number reserved " +
		"until the owner lets go.\n" +
		"\n" +
		"```go\n" +
		"// abort is called by strangers: the UI thread, a signal handler, a timer.\n" +
		"// It wakes the owner without releasing the descriptor.\n" +
		"func (c *ownedConn) abort() error {\n" +
		"\traw, err := c.tcp.SyscallConn()\n" +
		"\tif err != nil {\n" +
		"\t\treturn err\n" +
		"\t}\n" +
		"\tvar serr error\n" +
		"\tcerr := raw.Control(func(fd uintptr) {\n" +
		"\t\tserr = unix.Shutdown(int(fd), unix.SHUT_RDWR)\n" +
		"\t})\n" +
		"\treturn errors.Join(cerr, serr)\n" +
		"}\n" +
		"```\n" +
		"\n" +
		"The owner, woken by the shutdown, unwinds on its own thread and performs the one real close. Nothing else " +
		"ever does.\n" +
		"\n" +
		"## Why spindle exists\n" +
		"\n" +
		"spindle was written so that this story cannot happen again, and so that its tests prove it. The test suite " +
		"has a deliberately unsafe mode that caches a raw descriptor and closes it from a stranger, exactly as the old " +
		"code did, and a stress harness that must catch the damage. A harness that cannot see the bug proves nothing. " +
		"Before it opens `kanban.db`, spindle also checks the header, and if it finds those bytes it says so plainly, " +
		"*TLS record header detected at byte offset 5*, keeps a backup and refuses to carry on with a damaged board.\n" +
		"\n" +
		"Mara still copies a file before touching it. Press **Ctrl-C** now if you like: this story will stop " +
		"mid-sentence, and nothing will be written anywhere it should not be.\n"
)

// The short topic answers.
const (
	// aboutText says what spindle is.
	aboutText = "**spindle** is a terminal agent shell: a chat pane where a model's reply streams in token by token, and a " +
		"kanban board beside it that you and the agent both edit, all in one full-screen window.\n" +
		"\n" +
		"What it is built around:\n" +
		"\n" +
		"- **Interrupts that are safe.** **Ctrl-C** or **Esc** stops a reply within a frame; what arrived stays, " +
		"marked *interrupted*. The socket is only shut down by the interrupt and closed by the thread that owns it, so " +
		"a late write can never land in your files.\n" +
		"- **A board that tells the truth.** Cards live in `kanban.db` (SQLite); every change is written at once, can " +
		"be undone with `u`, and shows up in every other spindle window within a second.\n" +
		"- **An agent with tools.** It adds and moves cards, lists and reads files, and runs commands after you " +
		"approve them.\n" +
		"- **Workers.** Assign a card to the agent and a worker picks it up on its own while you keep chatting.\n" +
		"\n" +
		"Right now you are talking to the **offline demo model** built into the binary: no key and no network. Ask me " +
		"*how do I connect a real model* when you want real answers.\n"

	// workersText explains workers and the dispatcher.
	workersText = "## Workers and the dispatcher\n" +
		"\n" +
		"A **worker** is the agent working one card on its own, in the background, while you keep chatting.\n" +
		"\n" +
		"1. Put a card in **To do** and assign it to the agent: select it on the board and press `a`.\n" +
		"2. The **dispatcher** claims it in one transaction and moves it to **Running**. The claim records the host, " +
		"the process and an expiry, so a card is never worked twice, and the claim of a worker that crashed is " +
		"released and its run recorded as *crashed*.\n" +
		"3. The worker is one agent turn with its own session and its own connection. It reads the card, comments on " +
		"its progress with `card_comment`, and ends with `card_done` and a summary, or with `card_block` and a reason.\n" +
		"4. Every run is kept in the card's history, and every change names who made it: `me`, `agent` or `worker:<id>`.\n" +
		"\n" +
		"Stopping a worker is the same safe interrupt as **Ctrl-C** in the chat.\n" +
		"\n" +
		"With me as the model you can watch all three endings. Make three cards, assign them to the agent, and see " +
		"what happens: *Write the changelog* gets done, *Blocked on the API key* gets blocked, and *Make this fail* " +
		"fails on purpose, so you can see what a failed run looks like.\n"

	// toolsText says what the agent can do with files and commands.
	toolsText = "## What the agent can do with files and commands\n" +
		"\n" +
		"The agent works through **tools**, and every call shows up in the chat as it runs:\n" +
		"\n" +
		"- `ls` lists a directory and `view` reads a file. Reading inside the project needs no approval.\n" +
		"- `bash` runs a shell command in its own process group; when the turn is interrupted, the whole group is " +
		"stopped with it.\n" +
		"- Edits and new files are shown as a diff before anything is written.\n" +
		"- The `kanban_*` tools read and change the board.\n" +
		"\n" +
		"Anything with effects **asks first**. The approval dialog offers *allow once*, *allow for this session*, " +
		"*always for this project* and *deny*. Deny rules always win, the exact command or diff is shown, and paths " +
		"are resolved (symlinks and `..` included) before spindle decides whether they are inside the project.\n" +
		"\n" +
		"Try it with me:\n" +
		"\n" +
		"- *list files*, or *what is in this folder*\n" +
		"- *show me main.go*\n" +
		"- *run git status*: this one opens the approval dialog\n"

	// connectText says how to connect a real model.
	connectText = "## Connecting a real model\n" +
		"\n" +
		"spindle speaks the OpenAI chat-completions API, so it works with OpenAI, OpenRouter, vLLM, llama.cpp and " +
		"Ollama. Flags win over the environment, and the environment wins over the config file:\n" +
		"\n" +
		"| setting | flag | environment | `config.toml` |\n" +
		"|---|---|---|---|\n" +
		"| endpoint | `--base-url` | `OPENAI_BASE_URL` | `base_url` |\n" +
		"| model | `--model` | `SPINDLE_MODEL` | `model` |\n" +
		"| key | | `OPENAI_API_KEY` | `api_key` |\n" +
		"\n" +
		"For a quick try with a local Ollama:\n" +
		"\n" +
		"```sh\n" +
		"OPENAI_BASE_URL=http://127.0.0.1:11434/v1 SPINDLE_MODEL=llama3.2 spindle\n" +
		"```\n" +
		"\n" +
		"To keep it, write `~/.config/spindle/config.toml`:\n" +
		"\n" +
		"```toml\n" +
		"base_url = \"https://api.openai.com/v1\"\n" +
		"model = \"gpt-4o-mini\"\n" +
		"```\n" +
		"\n" +
		"and put `export OPENAI_API_KEY=...` in your shell profile. The key is never logged, stored in a database or " +
		"shown. Inside spindle, `/model` lists the endpoint's models and `/model NAME` switches. With nothing " +
		"configured, you get me: the offline demo model.\n"

	// sessionsText explains sessions and --continue.
	sessionsText = "## Sessions and --continue\n" +
		"\n" +
		"Every conversation is a **session**, saved in `state.db` message by message as it happens: your prompts, the " +
		"replies (complete, *interrupted* or *failed*), and every tool call with its result.\n" +
		"\n" +
		"- `spindle --continue` (or `-c`) reopens the last session where you left it.\n" +
		"- `/sessions` opens the session browser: type to search titles and messages, **Enter** opens one, **Ctrl-R** " +
		"renames and **Ctrl-D** deletes it (the board is not touched). `/resume ID` opens one by its number.\n" +
		"- `/new` starts a fresh session; it is saved when you send its first message.\n" +
		"- `spindle run \"prompt\"` does a single turn from the command line: the reply streams to stdout, and " +
		"**Ctrl-C** stops it and exits with status 130.\n" +
		"\n" +
		"A resumed session sends its history to the model, so a real model remembers what was said. I only look at the " +
		"last message, so I will not.\n" +
		"\n" +
		"The files live in `$SPINDLE_HOME`, else `~/.local/share/spindle`, and `spindle doctor` checks both databases " +
		"and can back them up.\n"

	// keysText lists the keys worth knowing, Ctrl-C first.
	keysText = "## Keys worth knowing\n" +
		"\n" +
		"- **Enter** sends; **Alt-Enter** or **Ctrl-J** starts a new line.\n" +
		"- **Ctrl-C** does the sensible thing for the moment:\n" +
		"  1. while a reply streams, it **interrupts** it at once, and the text so far stays, marked *interrupted*;\n" +
		"  2. when idle with text in the input, it **clears** the input;\n" +
		"  3. when idle and empty, it asks you to **press Ctrl-C again to quit**.\n" +
		"- **Esc** and `/stop` interrupt too, and never quit.\n" +
		"- **Tab** switches between the chat and the board.\n" +
		"- **?** (or **F1**) lists every key; **PgUp**, **PgDn** and **Shift-↑/↓** scroll the chat.\n" +
		"\n" +
		"- **Ctrl-P** finds any command or key-bound action by name.\n" +
		"\n" +
		"Slash commands: `/new`, `/sessions`, `/resume ID`, `/model` (the model picker; `/model NAME` sets one), " +
		"`/permissions`, `/stop`, `/help` and `/quit`.\n" +
		"\n" +
		"Try it now: ask me to *write a long essay* and press **Ctrl-C** halfway through.\n"

	// boardText says how to use the board.
	boardText = "## Using the board\n" +
		"\n" +
		"The board is the pane on the right, or a tab when the window is narrow. **Tab** moves between the chat and " +
		"the board.\n" +
		"\n" +
		"| key | what it does |\n" +
		"|---|---|\n" +
		"| arrows or `hjkl` | move the selection |\n" +
		"| `n` | new card |\n" +
		"| `Enter` / `e` | open / edit the selected card |\n" +
		"| `H` / `L` (or `<` / `>`) | move the card to the previous / next column |\n" +
		"| `J` / `K` | move the card down / up in its column |\n" +
		"| `c` | comment on the card |\n" +
		"| `a` | assign it to you or the agent |\n" +
		"| `d` | delete (asks first) |\n" +
		"| `u` | undo your last change |\n" +
		"\n" +
		"The columns are **To do**, **Running**, **Blocked**, **Review** and **Done**. Every change is saved the " +
		"moment you make it, together with an event in the card's history, which is what `u` undoes.\n" +
		"\n" +
		"You can also ask me: *add a card called \"Try the board\"*, and I will create it with the `kanban_create` tool.\n"

	// goCodeText is a Go example with a fenced block.
	goCodeText = "Here is a small, complete Go program. It reads text on standard input and prints its five most frequent words:\n" +
		"\n" +
		"```go\n" +
		"package main\n" +
		"\n" +
		"import (\n" +
		"\t\"bufio\"\n" +
		"\t\"cmp\"\n" +
		"\t\"fmt\"\n" +
		"\t\"os\"\n" +
		"\t\"slices\"\n" +
		"\t\"strings\"\n" +
		")\n" +
		"\n" +
		"func main() {\n" +
		"\tcounts := map[string]int{}\n" +
		"\tsc := bufio.NewScanner(os.Stdin)\n" +
		"\tsc.Split(bufio.ScanWords)\n" +
		"\tfor sc.Scan() {\n" +
		"\t\tcounts[strings.ToLower(sc.Text())]++\n" +
		"\t}\n" +
		"\tif err := sc.Err(); err != nil {\n" +
		"\t\tfmt.Fprintln(os.Stderr, \"wordfreq:\", err)\n" +
		"\t\tos.Exit(1)\n" +
		"\t}\n" +
		"\twords := make([]string, 0, len(counts))\n" +
		"\tfor w := range counts {\n" +
		"\t\twords = append(words, w)\n" +
		"\t}\n" +
		"\tslices.SortFunc(words, func(a, b string) int {\n" +
		"\t\treturn cmp.Or(cmp.Compare(counts[b], counts[a]), cmp.Compare(a, b))\n" +
		"\t})\n" +
		"\tfor _, w := range words[:min(5, len(words))] {\n" +
		"\t\tfmt.Printf(\"%6d %s\\n\", counts[w], w)\n" +
		"\t}\n" +
		"}\n" +
		"```\n" +
		"\n" +
		"Run it with `go run . < README.md`. A few things worth noticing:\n" +
		"\n" +
		"- `bufio.ScanWords` splits on any whitespace, so there is no parsing to write.\n" +
		"- The scanner's error is checked after the loop: `Scan` returns false both at the end of the input and on a " +
		"read error.\n" +
		"- `cmp.Or` sorts by count first and breaks ties by the word, so the output is the same on every run even " +
		"though map iteration order is random.\n"

	// markdownText shows what the chat renders: a table, lists, a quote, code.
	markdownText = "# Markdown, rendered\n" +
		"\n" +
		"The chat renders **bold**, *italic*, `inline code` and headings while they stream in.\n" +
		"\n" +
		"## A table\n" +
		"\n" +
		"| feature | key | where |\n" +
		"|---|---|---|\n" +
		"| interrupt a reply | Ctrl-C or Esc | chat |\n" +
		"| new card | n | board |\n" +
		"| move a card | H / L | board |\n" +
		"| every key | ? | anywhere |\n" +
		"\n" +
		"## Lists\n" +
		"\n" +
		"1. Numbered lists keep their numbers.\n" +
		"2. Nested items are indented:\n" +
		"   - like this one,\n" +
		"   - and this one.\n" +
		"3. Long items wrap to the width of the pane and keep their indentation, however narrow you make the window.\n" +
		"\n" +
		"- [x] stream a reply\n" +
		"- [ ] interrupt it with Ctrl-C\n" +
		"\n" +
		"> A quote looks like this.\n" +
		"\n" +
		"```sh\n" +
		"echo \"fenced code gets syntax highlighting\"\n" +
		"```\n"
)

// The greetings and the answer when no topic matches.
const (
	// greetHello is the first greeting.
	greetHello = "Hello! I'm spindle's **demo model**, running offline inside this process: no key and no network needed.\n" +
		"\n" +
		"- Ask me to *write a long essay*, and press **Ctrl-C** to interrupt it.\n" +
		"- Say *add a card called \"Try spindle\"* and I'll put it on the board.\n" +
		"- Say *run git status* to see an approval dialog.\n" +
		"\n" +
		"Set `OPENAI_BASE_URL` and `OPENAI_API_KEY` to talk to a real model instead.\n"

	// greetHi is the second greeting.
	greetHi = "Hi! This is the **offline demo model**: it answers from a script, but it streams like the real thing.\n" +
		"\n" +
		"1. Ask *how does streaming work* to watch a long reply with markdown and a Go code block.\n" +
		"2. Ask me to *add a card* and I'll call the `kanban_create` tool for you.\n" +
		"3. Ask *what are workers* to learn how the agent works cards on its own.\n" +
		"\n" +
		"Press **Tab** to switch between the chat and the board.\n"

	// greetShort is the third greeting.
	greetShort = "Short and sweet: I'm spindle's **built-in demo model**, and everything I say comes from this binary.\n" +
		"\n" +
		"- `add a card called \"Ship it\"` puts a card on the board.\n" +
		"- `list files` and `show me main.go` use the file tools.\n" +
		"- Anything long can be stopped with **Ctrl-C**.\n" +
		"\n" +
		"Ask *how do I connect a real model* whenever you like.\n"

	// fallbackBody follows fallbackIntro: what the demo can show, and how to connect a real model.
	fallbackBody = "Here is what I can show you:\n" +
		"\n" +
		"- **Streaming**: ask me to *explain streaming*, or to *write a long essay*.\n" +
		"- **Ctrl-C**: press it while a long reply arrives; the text so far stays, marked *interrupted*.\n" +
		"- **The board**: say *add a card called \"Try spindle\"*.\n" +
		"- **Tools and approvals**: *list files*, *show me main.go*, or *run git status* for the approval dialog.\n" +
		"- **Workers**: assign a card to the agent with `a` on the board, and a worker picks it up.\n" +
		"\n" +
		"For real answers, connect a real model: set `OPENAI_BASE_URL`, `OPENAI_API_KEY` and `SPINDLE_MODEL` (or " +
		"`base_url`, `api_key` and `model` in `~/.config/spindle/config.toml`) and start spindle again. Ask me *how do " +
		"I connect a real model* for the details.\n"
)

// shortAnswers are the answers to greetings and to requests for something
// short that match no topic; the prompt's seed picks one.
var shortAnswers = []string{greetHello, greetHi, greetShort}

// Templates for the answers that are not scripted.
const (
	// fallbackIntro opens the answer to a prompt that matches no topic
	// (the prompt, escaped and cut short); fallbackIntroBare when the
	// prompt is empty.
	fallbackIntro     = "I'm the **offline demo model** built into spindle: I answer from a script, and I have nothing scripted for “%s”.\n\n"
	fallbackIntroBare = "I'm the **offline demo model** built into spindle: I answer from a script, so I cannot really answer that.\n\n"

	// needTitleText answers "add a card" without a title.
	needTitleText = "I can add that card, but it needs a title. Try:\n" +
		"\n" +
		"> add a card called \"Write the release notes\"\n"

	// noToolText answers a card request when kanban_create is not offered
	// (title, tool name).
	noToolText = "I would add a card titled **%s**, but this conversation does not offer the `%s` tool, " +
		"so I cannot reach the board from here.\n"

	// toolMissingText answers a file or shell request whose tool is not
	// offered (what I would do, tool name).
	toolMissingText = "I would %s with the `%s` tool, but this conversation does not offer that tool, so nothing ran.\n" +
		"\n" +
		"Ask me *what can the agent do with files* to see what the tools are for.\n"

	// cardDoneText confirms a created card (title, " as card #ID" or "",
	// " in *status*" or "").
	cardDoneText = "Done: **%s** is on the board%s%s.\n" +
		"\n" +
		"Ask me for another card, or move this one along when you start on it.\n"

	// toolErrorText reports a failed tool (tool, message).
	toolErrorText = "The `%s` tool failed: %s\n" +
		"\n" +
		"Nothing was changed. Tell me what to fix and I'll try again.\n"

	// toolDeniedText reports a call the person denied (what was asked).
	toolDeniedText = "You denied %s, so nothing ran.\n" +
		"\n" +
		"That is the approval dialog doing its job: anything with effects waits for your answer. Ask again to see it once more.\n"

	// toolHeadlessDeniedText reports a call spindle run denied because it
	// cannot ask anyone (what was asked).
	toolHeadlessDeniedText = "`spindle run` cannot ask you for approval, so it denied %s and nothing ran.\n" +
		"\n" +
		"Pass `--yolo` to allow it, add an allow rule to the config, or ask me in the full-screen `spindle`, where a dialog asks you first.\n"

	// toolRuleDeniedText reports a call a deny rule refused without
	// asking (the rule, what was asked).
	toolRuleDeniedText = "The deny rule %s refused %s, so nothing ran; you were not asked.\n" +
		"\n" +
		"Deny rules come from the config file or this project's rules and win over every other answer. " +
		"`/permissions` lists them, and `/permissions remove RULE` removes one of this project's.\n"

	// toolUnansweredText reports a call nobody answered in time (what was
	// asked).
	toolUnansweredText = "Nobody answered the request for %s in time, so nothing ran.\n"

	// toolListText summarises a list result (tool, count).
	toolListText = "The `%s` tool returned %d item(s); they are on the board to your right.\n"

	// toolEmptyText reports an empty result (tool).
	toolEmptyText = "The `%s` tool finished without saying anything, so I assume it worked.\n"

	// toolOtherText quotes any other result (tool, result).
	toolOtherText = "The `%s` tool answered: %s\n"
)

// workerPlans are a worker's first words on its card ({id}, {title}): 150
// to 250 tokens, a few seconds at the default pace. The prompt's seed picks
// one.
var workerPlans = []string{
	"I'm picking up card #{id}, **{title}**.\n" +
		"\n" +
		"Here is how I'll work it:\n" +
		"\n" +
		"1. **Understand it.** Restate in one sentence what the card asks for, so that the goal is clear before " +
		"anything changes.\n" +
		"2. **Look around.** Read what already exists, so that the change fits the code and the board as they are today.\n" +
		"3. **Take the smallest useful step.** A small change is easier to review, and easier to undo, than a big one.\n" +
		"4. **Report back.** Leave a progress note on the card now, and finish with a summary of what was done and " +
		"what you should check.\n" +
		"\n" +
		"If the card turns out to depend on something I cannot reach, I'll say so on the card rather than guess. You " +
		"can follow along on the board: the card stays in **Running** until I finish. First, the progress note.\n",

	"Card #{id}: **{title}**.\n" +
		"\n" +
		"I have read the card and its comments, and the plan is simple. I will start by writing down, in one " +
		"sentence, what *done* looks like for this card, because a worker that knows where it is going wastes less " +
		"of your time. Next I will check what is already in place, so that I build on it instead of repeating it. " +
		"Then I will make the change in small steps that are easy to review. Along the way I will keep the card's " +
		"history up to date, starting with a short note right now, so that you can follow the work from the board " +
		"without opening this session. If anything on the card is unclear, I will ask in a comment rather than " +
		"guess, since a wrong guess costs you more than a question does.\n",

	"Working on **{title}** (card #{id}).\n" +
		"\n" +
		"A quick plan before I start:\n" +
		"\n" +
		"- Read the card's body and comments once more, and note anything that is unclear.\n" +
		"- Split the work into steps small enough to check one at a time.\n" +
		"- Keep you informed through the card itself: a progress comment now, and a summary at the end.\n" +
		"- Check the result against the card before I call it finished.\n" +
		"- If something outside my reach stands in the way, say so on the card instead of guessing.\n" +
		"\n" +
		"The card stays in **Running** while I work, and every change I make is recorded as mine, so you can tell " +
		"it apart from yours. Nothing here needs your attention yet; when something does, the card will say so " +
		"before I stop. Here is the first note.\n",
}

// The rest of a worker's words and tool arguments ({id}, {title},
// {rawtitle} as in workerCard.fill).
const (
	// workerProgressNote is the card_comment text. It must not say
	// "block" or "fail": it becomes part of the card's next prompt.
	workerProgressNote = "Started work: read the card and wrote a plan; a summary follows when it is finished."
	// workerNoteDoneText and workerNoteFailedText (the error) open step 2.
	workerNoteDoneText   = "The progress note is on the card."
	workerNoteFailedText = "The progress note did not make it onto the card (%s)."
	// workerFinishText leads to card_done, workerBlockText to card_block.
	workerFinishText = "Nothing stands in the way, so I'm marking **{title}** as done, with a short summary.\n"
	workerBlockText  = "The card says it is blocked, though, so rather than guess I'm marking it blocked and saying why.\n"
	// workerSummary is the card_done summary; workerBlockReason the
	// card_block reason (the line that says blocked).
	workerSummary     = "Finished “{rawtitle}”: read the card, planned the work and left a progress note on it."
	workerBlockReason = "The card says it is blocked: “%s”"
	// workerDoneText and workerBlockedText end the worker's turn;
	// workerToolFailedText (tool, error) when the last call failed.
	workerDoneText       = "Card #{id} is done, and its summary is on the card.\n"
	workerBlockedText    = "Card #{id} is blocked now; the reason is on the card, so you can clear the way.\n"
	workerToolFailedText = "The `%s` tool failed: %s. The card stays where it is.\n"
	// workerNoToolText (tool) when the finishing tool is not offered.
	workerNoToolText = "I would finish with the `%s` tool, but this request does not offer it, so the card stays where it is.\n"
	// workerFailText is the HTTP 500's message for a card titled "… fail …".
	workerFailText = "The demo model fails this request on purpose: the title of card #{id} asks for a failure. " +
		"Rename the card to see a worker finish it."
)
