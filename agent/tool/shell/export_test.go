package shell

// GroupMembers lists the live processes of a process group, for tests that
// check nothing of a command's group is left.
var GroupMembers = groupMembers
