"""Starts fp8-run, sends a signal once it prints its first progress line, and
prints fp8-run's output and exit code for FileCheck.

  interrupt.py SIGNAL FP8RUN ARGS...    SIGNAL: INT or TERM
"""
import signal
import subprocess
import sys


def main(argv):
    sig = getattr(signal, "SIG" + argv[1])
    # As from a terminal: lit's workers ignore SIGINT, and fp8-run keeps a
    # SIGINT ignored at its start (a background job of a script).
    proc = subprocess.Popen(argv[2:], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    lines = []
    for line in proc.stdout:
        lines.append(line)
        if line.startswith("step "):
            proc.send_signal(sig)
            break
    try:
        rest, _ = proc.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        rest, _ = proc.communicate()
        rest += "interrupt.test.py: no exit 20 s after the signal\n"
    sys.stdout.write("".join(lines) + rest)
    print(f"exit {proc.returncode}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
