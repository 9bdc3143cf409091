"""Starts real `moat serve` processes for integration tests and gives tests
boto3 clients and aws CLI calls aimed at them.

Environment:
  MOAT_BIN            the binary to test (default build/moat)
  MOAT_TEST_STORE     "sqlite" (default) or "postgres" (then MOAT_TEST_PG_URL names a
                      database; each server gets its own fresh schema... database)
  MOAT_TEST_PG_URL    postgres://... of a throwaway server (tests/pg/pg-start.sh)
"""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid

import boto3
import botocore
from botocore.config import Config

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MOAT_BIN = os.environ.get("MOAT_BIN", os.path.join(ROOT, "build", "moat"))
AWS_CLI = os.environ.get("MOAT_TEST_AWS_CLI", shutil.which("aws") or "aws")

ROOT_KEY_ID = "AKIAMOATTESTROOT0001"
ROOT_SECRET = "moatTestRootSecretKey0000000000000000000"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _pg_database_url(base_url):
    """Creates a fresh database on the throwaway PostgreSQL server for one moat."""
    import urllib.parse
    name = "moat_" + uuid.uuid4().hex[:12]
    u = urllib.parse.urlparse(base_url)
    psql = shutil.which("psql") or "/usr/lib/postgresql/15/bin/psql"
    subprocess.run([psql, base_url, "-qc", "CREATE DATABASE %s" % name], check=True,
                   stdout=subprocess.DEVNULL)
    return urllib.parse.urlunparse(u._replace(path="/" + name))


class PortTaken(Exception):
    pass


class Moat:
    """One running moat serve with its own data directory."""

    def __init__(self, args=(), env=None, data_dir=None, pin_root=True, tls=False,
                 store_url=None):
        self.data_dir = data_dir or tempfile.mkdtemp(prefix="moat-test-")
        self.owns_dir = data_dir is None
        self.proc = None
        try:
            self._setup(args, env, pin_root, tls, store_url)
        except BaseException:
            # A server that never came up leaves nothing behind.
            if self.proc and self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
            if self.owns_dir and os.environ.get("MOAT_TEST_KEEP") != "1":
                shutil.rmtree(self.data_dir, ignore_errors=True)
            raise

    def _setup(self, args, env, pin_root, tls, store_url):
        self.port = free_port()
        self.tls_port = free_port() if tls else None
        self.args = list(args)
        self.env = dict(os.environ)
        for k in list(self.env):
            if k.startswith("AWS_"):
                del self.env[k]
        if pin_root:
            self.env["MOAT_ROOT_ACCESS_KEY_ID"] = ROOT_KEY_ID
            self.env["MOAT_ROOT_SECRET_ACCESS_KEY"] = ROOT_SECRET
        if env:
            self.env.update(env)
        if store_url is None and os.environ.get("MOAT_TEST_STORE") == "postgres":
            store_url = _pg_database_url(os.environ["MOAT_TEST_PG_URL"])
        self.store_url = store_url
        self.proc = None
        self.expect_unclean_exit = False
        self.log_path = os.path.join(self.data_dir, "moat.log")
        self.stdout_path = os.path.join(self.data_dir, "stdout.txt")
        # free_port() only suggests a port: under parallel test workers another
        # server can take it first, and moat then exits with "in use": new ports.
        for attempt in range(5):
            try:
                self.start()
                break
            except PortTaken:
                for path in (self.log_path, self.stdout_path):
                    if os.path.exists(path):
                        os.unlink(path)
                self.port = free_port()
                self.tls_port = free_port() if tls else None
        else:
            raise RuntimeError("no free port for moat after 5 attempts")
        if pin_root:
            self.access_key, self.secret_key = ROOT_KEY_ID, ROOT_SECRET
        else:
            self.access_key, self.secret_key = self.env_credentials()

    @property
    def endpoint(self):
        return "http://127.0.0.1:%d" % self.port

    @property
    def tls_endpoint(self):
        return "https://127.0.0.1:%d" % self.tls_port

    def command(self):
        cmd = [MOAT_BIN, "serve", "--listen", "127.0.0.1:%d" % self.port, "--data-dir",
               self.data_dir, "--log-file", self.log_path, "--log-level", "debug"]
        if self.tls_port:
            cmd += ["--tls-listen", "127.0.0.1:%d" % self.tls_port]
        if self.store_url:
            cmd += ["--store", self.store_url]
        return cmd + self.args

    def start(self):
        out = open(self.stdout_path, "ab")
        self.proc = subprocess.Popen(self.command(), env=self.env, stdout=out,
                                     stderr=subprocess.STDOUT)
        out.close()
        deadline = time.time() + 20
        while time.time() < deadline:
            if self.proc.poll() is not None:
                if "Address already in use" in self.read_stdout() + self.read_log():
                    raise PortTaken()
                raise RuntimeError("moat exited with %s:\n%s\n%s" % (
                    self.proc.returncode, self.read_stdout(), self.read_log()))
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.02)
        raise RuntimeError("moat did not start listening:\n" + self.read_log())

    def read_log(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def read_stdout(self):
        try:
            with open(self.stdout_path, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def stop(self, sig=signal.SIGTERM, timeout=20):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        rc = self.proc.returncode if self.proc else None
        return rc

    def restart(self):
        rc = self.stop()
        self.start()
        return rc

    def close(self):
        """Stops the server and fails if it did not exit cleanly: a non-zero status
        or a sanitizer report is a bug even when every request was answered."""
        rc = self.stop()
        out = self.read_stdout()
        if self.owns_dir and os.environ.get("MOAT_TEST_KEEP") != "1":
            shutil.rmtree(self.data_dir, ignore_errors=True)
        if "Sanitizer" in out or "runtime error:" in out:
            raise AssertionError("sanitizer report from moat:\n" + out[-6000:])
        if rc not in (0, None) and not self.expect_unclean_exit:
            raise AssertionError("moat exited with status %s:\n%s" % (rc, out[-3000:]))

    def env_credentials(self):
        out = subprocess.run([MOAT_BIN, "env", "--data-dir", self.data_dir] +
                             (["--store", self.store_url] if self.store_url else []),
                             env=self.env, check=True, capture_output=True, text=True).stdout
        vals = dict(re.findall(r"export (\w+)=(\S+)", out))
        return vals["AWS_ACCESS_KEY_ID"], vals["AWS_SECRET_ACCESS_KEY"]

    # ---- clients ----------------------------------------------------------

    def client(self, service, access_key=None, secret_key=None, session_token=None,
               region="us-east-1", tls=False, **config):
        cfg = Config(retries={"max_attempts": 1, "mode": "standard"}, **config)
        return boto3.client(
            service,
            endpoint_url=self.tls_endpoint if tls else self.endpoint,
            region_name=region,
            aws_access_key_id=access_key or self.access_key,
            aws_secret_access_key=secret_key or self.secret_key,
            aws_session_token=session_token,
            config=cfg,
            verify=False if tls else None,
        )

    def aws(self, *args, access_key=None, secret_key=None, session_token=None,
            region="us-east-1", check=True, raw=False, input=None):
        """Runs the aws CLI; returns parsed JSON output (or the CompletedProcess with raw)."""
        env = dict(os.environ)
        for k in list(env):
            if k.startswith("AWS_"):
                del env[k]
        env["AWS_ACCESS_KEY_ID"] = access_key or self.access_key
        env["AWS_SECRET_ACCESS_KEY"] = secret_key or self.secret_key
        if session_token:
            env["AWS_SESSION_TOKEN"] = session_token
        env["AWS_DEFAULT_REGION"] = region
        env["AWS_CONFIG_FILE"] = "/dev/null"
        env["AWS_SHARED_CREDENTIALS_FILE"] = "/dev/null"
        env["AWS_PAGER"] = ""
        env["AWS_MAX_ATTEMPTS"] = "1"
        cmd = [AWS_CLI, "--endpoint-url", self.endpoint, "--output", "json"] + list(args)
        p = subprocess.run(cmd, env=env, capture_output=True, text=True, input=input)
        if raw:
            return p
        if check and p.returncode != 0:
            raise AssertionError("aws %s failed (%d): %s" % (" ".join(args), p.returncode,
                                                             p.stderr))
        return json.loads(p.stdout) if p.stdout.strip() else {}


def client_error_code(exc):
    return exc.response["Error"]["Code"]


def botocore_version():
    return tuple(int(x) for x in botocore.__version__.split(".")[:2])


# ---- policy documents ------------------------------------------------------------------


def doc(*statements):
    """A policy document of these statements."""
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(action, resource="*", **extra):
    s = {"Effect": "Allow", "Action": action, "Resource": resource}
    s.update(extra)
    return s


def deny(action, resource="*", **extra):
    s = {"Effect": "Deny", "Action": action, "Resource": resource}
    s.update(extra)
    return s
