"""The audit log is durable and tamper-evident: a kill -9 under load loses no
acknowledged request's record (or state change), and `moat audit verify`
passes on an intact log and names the first record that was altered, removed
or re-chained directly in the store, on SQLite and on PostgreSQL."""
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import threading
import time

import pytest
from botocore.exceptions import ClientError

from moat_harness import MOAT_BIN
from test_audit_records import audit_rows, records_by_request, request_id

FAST = {"MOAT_LOOKUP_EVENTS_RATE": "1000"}


def verify(m):
    cmd = [MOAT_BIN, "audit", "verify", "--data-dir", m.data_dir]
    if m.store_url:
        cmd += ["--store", m.store_url]
    p = subprocess.run(cmd, capture_output=True, text=True, env=m.env)
    return p.returncode, p.stdout + p.stderr


class Sql:
    """Direct access to the store's tables, as an intruder with the database would have."""

    def __init__(self, m):
        self.pg = bool(m.store_url and m.store_url.startswith("postgres"))
        self.m = m

    def run(self, sql):
        if self.pg:
            psql = shutil.which("psql") or "/usr/lib/postgresql/15/bin/psql"
            out = subprocess.run([psql, self.m.store_url, "-At", "-F", "\t", "-v",
                                  "ON_ERROR_STOP=1", "-c", sql],
                                 capture_output=True, text=True, check=True).stdout
            return [tuple(line.split("\t")) for line in out.splitlines() if line]
        con = sqlite3.connect(os.path.join(self.m.data_dir, "moat.db"), isolation_level=None)
        try:
            return [tuple(str(x) for x in r) for r in con.execute(sql).fetchall()]
        finally:
            con.close()

    def hexof(self, col):
        return "encode(%s, 'hex')" % col if self.pg else "lower(hex(%s))" % col

    def blob(self, hexstr):
        return "decode('%s', 'hex')" % hexstr if self.pg else "x'%s'" % hexstr


# ---- tamper evidence -------------------------------------------------------------------


def test_verify_detects_tampering(fresh_moat):
    m = fresh_moat(env=FAST)
    kms = m.client("kms")
    for _ in range(8):
        kms.generate_random(NumberOfBytes=4)
    ct = m.client("cloudtrail")
    ct.create_trail(Name="tamper-trail", S3BucketName="bkt-tamper")
    assert m.stop() == 0
    rc, out = verify(m)
    assert rc == 0 and "audit chain verified: 9 records, no break" in out, out
    db = Sql(m)

    def broken_at(seq, words):
        rc, out = verify(m)
        assert rc == 1, out
        assert "BROKEN at record %d:" % seq in out and words in out, out

    # 1. a record altered in place
    db.run("UPDATE audit SET record = replace(record, 'GenerateRandom', 'GenerateRandoX')"
           " WHERE seq = 5")
    broken_at(5, "altered")
    db.run("UPDATE audit SET record = replace(record, 'GenerateRandoX', 'GenerateRandom')"
           " WHERE seq = 5")
    assert verify(m)[0] == 0

    # 2. a record deleted
    db.run("CREATE TABLE saved AS SELECT * FROM audit WHERE seq = 7")
    db.run("DELETE FROM audit WHERE seq = 7")
    broken_at(7, "missing")
    db.run("INSERT INTO audit SELECT * FROM saved")
    db.run("DROP TABLE saved")
    assert verify(m)[0] == 0

    # 3. the newest record deleted (nothing follows it to break a link)
    db.run("CREATE TABLE saved AS SELECT * FROM audit WHERE seq = 9")
    db.run("DELETE FROM audit WHERE seq = 9")
    broken_at(9, "removed")
    db.run("INSERT INTO audit SELECT * FROM saved")
    db.run("DROP TABLE saved")
    assert verify(m)[0] == 0

    # 4. a LookupEvents column changed (the record itself intact)
    db.run("UPDATE audit SET event_name = 'DeleteTrail' WHERE seq = 3")
    broken_at(3, "event name column")
    db.run("UPDATE audit SET event_name = 'GenerateRandom' WHERE seq = 3")
    db.run("UPDATE audit SET username = 'mallory' WHERE seq = 4")
    broken_at(4, "user name column")
    db.run("UPDATE audit SET username = 'root' WHERE seq = 4")
    assert verify(m)[0] == 0

    # 5. LookupEvents index entries removed, altered or invented (records intact);
    # a clean stop left the index complete
    assert db.run("SELECT seq FROM audit_indexed") == [("9",)]
    db.run("CREATE TABLE saved AS SELECT * FROM audit_index WHERE seq = 5")
    db.run("DELETE FROM audit_index WHERE seq = 5")
    broken_at(5, "LookupEvents index entries")
    db.run("INSERT INTO audit_index SELECT * FROM saved")
    db.run("DROP TABLE saved")
    assert verify(m)[0] == 0
    db.run("UPDATE audit_index SET value = 'mallory' WHERE seq = 6 AND value = 'root'")
    broken_at(6, "LookupEvents index entries")
    db.run("UPDATE audit_index SET value = 'root' WHERE seq = 6 AND value = 'mallory'")
    assert verify(m)[0] == 0
    db.run("INSERT INTO audit_index SELECT account_id, attr, value, event_time_ms, 4242,"
           " management FROM audit_index WHERE seq = 2")
    broken_at(4242, "does not exist")
    db.run("DELETE FROM audit_index WHERE seq = 4242")
    assert verify(m)[0] == 0

    # 6. a record altered and its own hash recomputed: the next link breaks
    prev_hex, record = db.run("SELECT %s, record FROM audit WHERE seq = 6" %
                              db.hexof("prev_hash"))[0]
    forged = record.replace("GenerateRandom", "GenerateRandoY")
    h = hashlib.sha256(bytes.fromhex(prev_hex) + (6).to_bytes(8, "big") +
                       forged.encode()).hexdigest()
    db.run("UPDATE audit SET record = replace(record, 'GenerateRandom', 'GenerateRandoY'),"
           " event_name = 'GenerateRandoY', hash = %s WHERE seq = 6" % db.blob(h))
    broken_at(6, "LookupEvents index entries")
    db.run("UPDATE audit_index SET value = 'GenerateRandoY' WHERE seq = 6"
           " AND value = 'GenerateRandom'")
    broken_at(7, "previous-hash link")
    m.start()  # the harness stops it again at the end


def test_verify_on_an_empty_and_a_busy_log(fresh_moat):
    m = fresh_moat(env=FAST)
    assert m.stop() == 0
    rc, out = verify(m)
    assert rc == 0 and "0 records" in out
    m.start()
    kms = m.client("kms")
    for _ in range(1100):  # more than one page of the verifier
        kms.generate_random(NumberOfBytes=1)
    assert m.stop() == 0
    rc, out = verify(m)
    assert rc == 0 and "1100 records" in out, out
    m.start()


# ---- crash safety ------------------------------------------------------------------------


@pytest.mark.slow
def test_kill_9_under_load_loses_no_acknowledged_record(fresh_moat):
    m = fresh_moat(env=FAST)
    ct = m.client("cloudtrail")
    trail = ct.create_trail(Name="crash-trail", S3BucketName="bkt-crash")["TrailARN"]
    threads, stop = 6, threading.Event()
    clients = [m.client("cloudtrail") for _ in range(threads)]
    acked = [[] for _ in range(threads)]  # (request id, kind, value)

    def worker(i):
        c = clients[i]
        n = 0
        while not stop.is_set():
            n += 1
            try:
                if n % 3 == 0:
                    r = c.get_trail(Name="crash-trail")
                    acked[i].append((request_id(r), "read", None))
                elif n % 3 == 1:
                    r = c.add_tags(ResourceId=trail, TagsList=[{"Key": "w%d" % i,
                                                                "Value": str(n)}])
                    acked[i].append((request_id(r), "tag", n))
                else:
                    sel = [{"ReadWriteType": ["All", "ReadOnly", "WriteOnly"][n % 3]}]
                    r = c.put_event_selectors(TrailName="crash-trail", EventSelectors=sel)
                    acked[i].append((request_id(r), "sel", None))
            except ClientError:
                pass
            except Exception:  # the server is gone
                return

    ts = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    for t in ts:
        t.start()
    deadline = time.time() + 30
    while sum(len(a) for a in acked) < 300 and time.time() < deadline:
        time.sleep(0.05)
    m.expect_unclean_exit = True
    m.proc.kill()  # SIGKILL mid-load
    m.proc.wait()
    stop.set()
    for t in ts:
        t.join()
    total = sum(len(a) for a in acked)
    assert total >= 100

    m.start()
    recs = records_by_request(m)
    for i in range(threads):
        for rid, kind, _ in acked[i]:
            assert len(recs.get(rid, [])) == 1, (kind, rid)
    # every acknowledged change is there too (a later, unacknowledged one may be)
    tags = {t["Key"]: int(t["Value"]) for t in
            m.client("cloudtrail").list_tags(ResourceIdList=[trail])["ResourceTagList"][0][
                "TagsList"]}
    for i in range(threads):
        done = [v for _, kind, v in acked[i] if kind == "tag"]
        if done:
            assert tags["w%d" % i] >= max(done)
    assert m.stop() == 0
    rc, out = verify(m)
    assert rc == 0, out
    # the chain is gapless and every record is JSON
    rows = audit_rows(m)
    assert [s for s, _, _ in rows] == list(range(1, len(rows) + 1))
    assert all(json.dumps(r) for _, _, r in rows)
    m.start()
