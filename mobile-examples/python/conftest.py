"""Test setup: the generated bindings (`cargo xtask bindings`) and a real relay process."""

import json
import os
import pathlib
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bindings" / "generated" / "python"))


class Relay:
    """`nabo-server --demo` on a free port; stop() and start() keep the port and the data."""

    password = "demo-password-1234"

    def __init__(self):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.data = tempfile.mkdtemp(prefix="nabo-relay-")
        self.proc = None
        self.binary = os.environ.get("NABO_SERVER_BIN") or str(ROOT / "target" / "debug" / "nabo-server")

    def start(self):
        env = dict(os.environ, NABO_DEMO_PASSWORD=self.password)
        log = open(os.path.join(self.data, "relay.log"), "ab")
        self.proc = subprocess.Popen(
            [self.binary, "--demo", "--listen", f"127.0.0.1:{self.port}", "--data-dir", self.data],
            env=env, stdout=log, stderr=subprocess.STDOUT,
        )
        deadline = time.time() + 60
        while time.time() < deadline:
            assert self.proc.poll() is None, "the relay exited"
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=0.5) as r:
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("the relay did not start")

    def stop(self):
        if self.proc:
            self.proc.terminate()
            self.proc.wait()
            self.proc = None

    def post(self, path, body, token=None):
        req = urllib.request.Request(f"{self.url}{path}", data=json.dumps(body).encode(), method="POST")
        req.add_header("Content-Type", "application/json")
        if token:
            req.add_header("Authorization", f"Bearer {token}")
        with urllib.request.urlopen(req) as r:
            return json.loads(r.read())

    def get(self, path, token):
        req = urllib.request.Request(f"{self.url}{path}")
        req.add_header("Authorization", f"Bearer {token}")
        with urllib.request.urlopen(req) as r:
            return json.loads(r.read())

    def token(self, user="central"):
        return self.post("/api/v1/auth/login", {"username": user, "password": self.password})["access_token"]

    def enrolment_code(self, user_id):
        return self.post("/api/v1/enrolments", {"user_id": user_id}, self.token())["code"]


@pytest.fixture(scope="module")
def relay():
    r = Relay()
    r.start()
    yield r
    r.stop()
    shutil.rmtree(r.data, ignore_errors=True)
