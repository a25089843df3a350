"""The sandbox: the parent-side runner and the child package that runs untrusted code.

Threat model
============
Candidate code is untrusted: a pass can be wrong, and an LLM's proposal can be
buggy or written by a prompt injection to get itself accepted. It is also the
user's own project code in a changed form, so it may do anything Python can
do inside the process that runs it: patch any module (`time`, `json`,
`pickle`, our child's own modules), walk `gc` and `sys.modules`, write to any
file descriptor it holds (`/proc/self/fd/N`), print anything, fork, or exit.

What it must never achieve:
1. *harm the machine or the user*: it runs only in a child under bubblewrap
   (read-only root, private /tmp, one writable scratch dir, no network, new
   PID namespace, an unprivileged uid), or `unshare -n`, or plain resource
   limits with a loud warning; always with CPU, memory, file-size, open-file
   and process limits, a wall-clock timeout that kills the whole namespace,
   and a scrubbed environment (no keys or tokens);
2. *be called equivalent when it is not*: the process that judges never
   runs it. The recorder runs the *original* alone and ships its inputs; a
   replay runs the *candidate* alone on them; this process compares the two
   reports (`child.compare`, which reads data only). The candidate can lie in
   its replay's report, but to match it must produce the original's
   observations for inputs it only sees at run time: that is, behave like
   the original. The side-by-side search (both versions in one child) may
   only *reject*; its "no difference" is never used;
3. *look faster than it is*: each version is timed in a worker of its own,
   and this process keeps the clocks: the kernel's CPU clock of the worker
   process, read by PID, and its own wall clock. A worker's replies are
   checked: result digests must match the original's, the candidate must be
   idle while the original runs, must start no other process, and must not
   spend much more CPU outside its timed runs than the original (work done
   ahead of the clock).

What the child sees: the import path of the environment that runs optimize
(every `sys.path` entry: site-packages, `.pth` and editable-install targets from
PEP 610's `direct_url.json`, `PYTHONPATH`), the project root, the interpreter
and the child package, all bind-mounted read-only (paths under /tmp bound back
on top of the private /tmp, symlinks resolved), over the read-only root. Nothing
of the machine is writable: only its scratch dir (its temp dir and cwd) and the
private, discarded /tmp. The module under test is loaded inside its real package
(imported first, as the user's interpreter would), never by naming our own
`pipeline` or `passes`: the child package is loaded by path under a private name.
Run as root, the child drops to `nobody`, which cannot enter a project that only
root may read (mode 0700 dirs): then the module runs without importing its
package, and an import of a sibling module fails with the unreadable path named.

The result channel is a pipe this process created, one per child; nothing is
read from files the child can write, and a report is one length-prefixed
JSON message read against a typed schema (`child.protocol`) with a size cap:
a forged, truncated or malformed report is a failure, never a verdict.
Nothing a child sends is unpickled here: inputs travel from the recorder to a
replay as opaque bytes, and recorded calls from a trace are unpickled only
inside the sandbox.

Not covered: a candidate that detects it is being tested (say, by its
environment) and behaves like the original only then. No testing can tell;
the diff of every accepted rewrite is shown for review. At isolation levels
below bubblewrap, a candidate running as the same user could reach other
processes of that user.
"""
