"""Runs one notebook step for the mlops pipeline runner (pipeline/runner/notebook-step.ts).

    run_notebook.py --notebook IN.ipynb --out RUN_DIR/STEP.ipynb --kernel python3 --timeout 600

Papermill style: the run's params (MLOPS_PARAMS, JSON) and the MLOPS_* values of the step's
environment go into a new code cell tagged `injected-parameters`, right after the cell tagged
`parameters` (first when there is none). The cells then run one by one in a Jupyter kernel through
nbclient. Cell outputs stream to stdout/stderr as they come (the runner logs them); structured
messages (progress, the kernel's pid, the one-line failure) go as JSON lines to fd 3. The executed
copy is written after every cell and at the end, also on a failure, a timeout or SIGTERM, through a
temporary file and a rename so that a reader never sees half a notebook.

Exit codes: 0 ok; 1 the notebook failed (the reason is on fd 3); 143 stopped by SIGTERM.
"""
import argparse
import json
import keyword
import os
import re
import signal
import sys

EVENTS = None


def send(message):
    """One JSON line to the runner, when it listens on fd 3."""
    if EVENTS is not None:
        EVENTS.write(json.dumps(message) + "\n")
        EVENTS.flush()


def fail(kind, **details):
    send({"type": "error", "kind": kind, **details})
    sys.exit(1)


try:
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError
    from jupyter_client.kernelspec import NoSuchKernel
except ImportError as missing:  # the runner turns this into "install python3-nbclient"
    if "--events-fd" in sys.argv[:-1]:
        EVENTS = os.fdopen(int(sys.argv[sys.argv.index("--events-fd") + 1]), "w")
    fail("module", module=getattr(missing, "name", None) or str(missing), python=sys.executable)

MLOPS_VARIABLES = [
    "MLOPS_RUN_ID",
    "MLOPS_RUN_DIR",
    "MLOPS_STEP",
    "MLOPS_ARTIFACTS_DIR",
    "MLOPS_CONTEXT_FILE",
    "MLOPS_METRICS_FILE",
]
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")

# Started in the kernel before any cell: the kernel ends itself once this driver is gone, even
# when the driver was killed by a SIGKILL that no handler sees (the kernel runs in a session of
# its own, so the runner's process-group kill does not reach it).
WATCH_DRIVER = """
import os as _mlops_os, threading as _mlops_threading, time as _mlops_time
def _mlops_watch(driver=%d, os=_mlops_os, time=_mlops_time):
    while os.getppid() == driver:
        time.sleep(0.25)
    os._exit(1)
_mlops_threading.Thread(target=_mlops_watch, daemon=True).start()
del _mlops_os, _mlops_threading, _mlops_time, _mlops_watch
"""


class Cancelled(Exception):
    pass


def injected_source(params, env):
    """Python assignments for the run's params and MLOPS_* values (repr of the JSON values is a Python literal)."""
    lines = ["# Parameters injected by the mlops pipeline runner"]
    for name, value in params.items():
        if name.isidentifier() and not keyword.iskeyword(name):
            lines.append(f"{name} = {value!r}")
        else:
            lines.append(f"# {name!r} is not a Python name: read it with mlops_step.params()")
    for name in MLOPS_VARIABLES:
        if name in env:
            lines.append(f"{name} = {env[name]!r}")
    return "\n".join(lines)


def inject_parameters(nb, source):
    cell = nbformat.v4.new_code_cell(source=source)
    cell.metadata["tags"] = ["injected-parameters"]
    cells = nb.cells
    at = next((i + 1 for i, c in enumerate(cells) if "parameters" in c.get("metadata", {}).get("tags", [])), 0)
    cells.insert(at, cell)


def first_line(cell):
    for line in cell.source.splitlines():
        if line.strip():
            text = line.strip()
            return text if len(text) <= 80 else text[:77] + "..."
    return ""


def save(nb, out):
    tmp = f"{out}.tmp-{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as f:
        nbformat.write(nb, f)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, out)


class StreamingClient(NotebookClient):
    """Prints a cell's stream output as it comes, so that the step log follows the notebook live."""

    def output(self, outs, msg, display_id, cell_index):
        if msg["msg_type"] == "stream":
            stream = sys.stderr if msg["content"].get("name") == "stderr" else sys.stdout
            stream.write(msg["content"].get("text", ""))
            stream.flush()
        return super().output(outs, msg, display_id, cell_index)


def kernel_pid(client):
    provisioner = getattr(client.km, "provisioner", None)
    process = getattr(provisioner, "process", None) or getattr(client.km, "kernel", None)
    return getattr(process, "pid", None)


def interrupt(client):
    try:
        client.km.interrupt_kernel()
    except Exception:  # a kernel that cannot be interrupted is killed on the way out anyway
        pass


def kill_kernel(pid):
    if pid is None:
        return
    try:
        os.killpg(pid, signal.SIGKILL)
    except OSError:
        pass


def main():
    global EVENTS
    parser = argparse.ArgumentParser()
    parser.add_argument("--notebook", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--kernel", default="python3")
    parser.add_argument("--timeout", type=float, default=600)
    parser.add_argument("--events-fd", type=int)
    args = parser.parse_args()
    if args.events_fd is not None:
        EVENTS = os.fdopen(args.events_fd, "w")

    try:
        nb = nbformat.read(args.notebook, as_version=4)
    except Exception as err:  # not JSON, not a notebook: one line naming the file
        fail("notebook", reason=str(err).splitlines()[0] if str(err) else type(err).__name__)
    inject_parameters(nb, injected_source(json.loads(os.environ.get("MLOPS_PARAMS", "{}")), os.environ))
    total = len(nb.cells)

    def on_sigterm(signum, frame):
        raise Cancelled()

    signal.signal(signal.SIGTERM, on_sigterm)
    # The kernel's debugger otherwise warns about frozen modules on every start, into the step log.
    os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    client = StreamingClient(
        nb,
        timeout=max(1, int(args.timeout)),
        kernel_name=args.kernel,
        interrupt_on_timeout=False,
        shutdown_kernel="immediate",
        resources={"metadata": {"path": os.path.dirname(os.path.abspath(args.notebook))}},
    )
    pid = None
    current = None
    started = False
    try:
        try:
            with client.setup_kernel():
                started = True
                pid = kernel_pid(client)
                send({"type": "kernel", "pid": pid})
                msg_id = client.kc.execute(WATCH_DRIVER % os.getpid(), silent=True, store_history=False)
                client.wait_for_reply(msg_id)
                for index, cell in enumerate(nb.cells):
                    if cell.cell_type != "code":
                        continue
                    current = index
                    send({"type": "progress", "cell": index + 1, "total": total, "line": first_line(cell)})
                    try:
                        client.execute_cell(cell, index)
                    except CellTimeoutError:
                        # Interrupt while the kernel is still ours (leaving the block stops it): a cell that
                        # ignores the interrupt is killed with the kernel.
                        interrupt(client)
                        raise
                    save(nb, args.out)
                current = None
        except NoSuchKernel:
            fail("kernel", kernel=args.kernel, python=sys.executable, reason="is not installed")
        except CellTimeoutError:
            fail("timeout", cell=current + 1, line=first_line(nb.cells[current]), seconds=args.timeout)
        except CellExecutionError as err:
            sys.stderr.write(ANSI.sub("", err.traceback) + "\n")
            fail("cell", cell=current + 1, line=first_line(nb.cells[current]), ename=err.ename, evalue=err.evalue)
        except DeadKernelError:
            fail("dead", cell=None if current is None else current + 1, line="" if current is None else first_line(nb.cells[current]))
        except Cancelled:
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            sys.exit(143)
        except Exception as err:
            if started:
                raise
            # A kernelspec whose Python lacks ipykernel: Debian's python3 kernelspec without python3-ipykernel.
            reason = str(err).splitlines()[0] if str(err) else type(err).__name__
            fail("kernel", kernel=args.kernel, python=sys.executable, reason=f"did not start ({reason})")
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        save(nb, args.out)
        # Also a kernel whose start a SIGTERM interrupted, before its pid was sent.
        kill_kernel(pid if pid is not None else kernel_pid(client))


if __name__ == "__main__":
    main()
