"""Starts a built `evsed` against a simulator started by sim_process.SimProcess."""
import pathlib
import re
import subprocess
import threading
import time


def sim_board_for(repo_root: pathlib.Path, sim, directory: pathlib.Path) -> pathlib.Path:
    """The sim board file pointed at the simulator's (free) ports."""
    text = (repo_root / "Board" / "sim-2x22kw.yaml").read_text()
    text = re.sub(r"simulator: \{address: [^}]*\}", f"simulator: {{address: 127.0.0.1:{sim.hal_port}}}", text)
    text = re.sub(r"tcp: 127\.0\.0\.1:\d+", f"tcp: 127.0.0.1:{sim.modbus_port}", text)
    text = f"meters_dir: {repo_root / 'Board' / 'meters'}\n" + text
    path = directory / "board.yaml"
    path.write_text(text)
    return path


class EvsedProcess:
    def __init__(self, bin_dir, board, config, data_dir, *extra, env=None, umask=-1):
        """`umask`: the file mode mask evsed starts with (-1: this process's own)."""
        self.args = [str(pathlib.Path(bin_dir) / "evsed"), "--board", str(board), "--config", str(config),
                     "--data-dir", str(data_dir), "--log-level", "debug", *extra]
        self.lines: list[str] = []
        self.lock = threading.Lock()
        self.proc = subprocess.Popen(self.args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env,
                                     umask=umask, errors="surrogateescape")
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        self.wait_log(r"ready: \d+ connector", timeout=20)

    def _read(self):
        for line in self.proc.stderr:
            with self.lock:
                self.lines.append(line.rstrip("\n"))

    # surrogateescape: a line with bytes that are not UTF-8 is kept, and `.encode("utf-8",
    # "surrogateescape")` gives back exactly what evsed wrote.
    def log(self) -> list[str]:
        with self.lock:
            return list(self.lines)

    def wait_log(self, pattern, timeout=10.0, start=0):
        """The first log line from index `start` matching `pattern` (regex); fails after `timeout`."""
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            lines = self.log()
            for line in lines[start:]:
                if rx.search(line):
                    return line
            if self.proc.poll() is not None:
                raise AssertionError(f"evsed exited with {self.proc.returncode}:\n" + "\n".join(self.log()[-40:]))
            time.sleep(0.02)
        raise AssertionError(f"no log line matching {pattern!r} within {timeout}s:\n" + "\n".join(self.log()[-40:]))

    def terminate(self, timeout=10.0) -> int:
        self.proc.terminate()
        return self.proc.wait(timeout)

    def kill9(self):
        self.proc.kill()
        self.proc.wait(5)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
