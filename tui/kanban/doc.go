// Package kanban is spindle's kanban pane: a Bubble Tea v2 component that
// shows the board in kanban.db as columns (To do, Running, Blocked, Review,
// Done, and Archived when toggled on) and edits it with the keyboard.
//
// # Embedding
//
// The root model builds the pane with New, calls Init once, sizes it with
// SetSize, and moves focus with Focus and Blur. Update receives key presses
// only while the pane has focus, and every other message always: the pane's
// own messages (loads, writes, the poll tick) must reach it whichever pane is
// focused. ErrorMsg is emitted when a write, a load or an undo fails; the
// root shows it in the status bar (the pane ignores ErrorMsg it receives).
//
// # Keyboard ownership: Editing, Esc and Ctrl-C
//
// Editing reports whether a card form, the comment input, the filter input
// or a delete confirmation has the keyboard. While it does, the root should
// send every key to the pane, Esc and Tab included, except Ctrl-C
// (keymap.Global.Interrupt). The pane never binds Ctrl-C itself; the root
// decides: if a stream is running, Ctrl-C interrupts the stream and the form
// stays open; otherwise the root sends CancelFormMsg{} to Update, which
// closes whatever form, input or confirmation is open without saving. Esc
// (keymap.Kanban.Cancel) does the same from inside the pane.
//
// # Writes
//
// Every change is applied to the model at once (optimistically) and written
// to the board by a tea.Cmd; writes run one at a time, in key order, so a
// burst of moves commits in the order it was typed. A failed write puts the
// card back as it was stored and emits ErrorMsg; when the queue drains the
// pane reloads the board so the screen matches the file. Nothing in Update or
// View touches the disk.
//
// # Undo
//
// u undoes the person's own latest change; U undoes the selected (or open)
// card's latest change, whoever made it (the agent's, a worker's). Either
// says what it undid, or why it undid nothing, in a notice drawn over the
// pane's last rows until the next key; a board that cannot be reached is an
// ErrorMsg as for any write.
//
// # Changes from elsewhere
//
// Init starts a one-second tea.Tick; each tick runs Board.DataVersion in a
// Cmd, reloads the cards only when the version changed, and re-arms the
// tick. That tick is the pane's only periodic work and costs one PRAGMA. A
// load reads the claims too: a card in Running for the agent that no worker
// holds says "no worker", one held by another process names its pid. A
// poll that fails is reported as ErrorMsg once, when polling starts to fail,
// and again only after a poll has succeeded in between.
//
// # Layout
//
// The pane draws exactly the size SetSize gave it. Columns are at least 20
// cells wide; when fewer fit than there are columns (the narrow layout, e.g.
// 60 cells), the visible window of columns follows the selection and the
// headers show ‹ and › where more columns are hidden. Each column scrolls
// vertically to keep the selected card visible, and its rule line shows the
// visible range when it overflows. Every title, body, comment and event text
// passes through sanitize.String before it is drawn.
package kanban
