"""`billing-sync emulator …` as a new user starts it: prints what to connect with, serves."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import stripe


def start(*args, cwd):
    return subprocess.Popen([sys.executable, "-u", "-m", "scheduler.cli", "emulator", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=cwd,
                            env=os.environ.copy())


def read_lines(proc, n, timeout=30):
    lines, deadline = [], time.monotonic() + timeout
    while len(lines) < n and time.monotonic() < deadline:
        line = proc.stdout.readline()
        if line:
            lines.append(line.strip())
    return lines


def test_stripe_standin_serves_stripe_python(tmp_path):
    proc = start("stripe", "--port", "0", cwd=tmp_path)
    try:
        lines = read_lines(proc, 2)
        url = lines[0].rsplit(" ", 1)[-1]
        key = lines[1].rsplit(" ", 1)[-1]
        client = stripe.StripeClient(key, base_addresses={"api": url})
        cus = client.v1.customers.create(params={"name": "CLI user"})
        assert cus.id.startswith("cus_") and cus.livemode is False
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=10)  # reaps it and closes both pipes


def test_salesforce_standin_prints_name_value_lines(tmp_path):
    proc = start("salesforce", "--port", "0", "--dir", str(tmp_path / "sf"), cwd=tmp_path)
    try:
        lines = read_lines(proc, 8)
        values = dict(line.split(": ", 1) for line in lines)
        assert values["instance_url"].startswith("https://127.0.0.1:")
        assert (tmp_path / "sf").is_dir() and os.path.exists(values["ca_file"])
        assert values["access_token"] and values["client_id"]
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=10)  # reaps it and closes both pipes


def test_chargebee_and_recurly_standins_serve_from_the_cli(tmp_path):
    import requests

    proc = start("chargebee", "--port", "0", cwd=tmp_path)
    try:
        lines = read_lines(proc, 3)
        base = lines[0].split("API base ", 1)[1].rstrip(")")
        key = lines[2].rsplit(" ", 1)[-1]
        with requests.get(f"{base}/customers", auth=(key, ""), timeout=10) as ok:
            assert ok.status_code == 200 and ok.json()["list"] == []
        with requests.get(f"{base}/customers", auth=("wrong", ""), timeout=10) as refused:
            assert refused.status_code == 401
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=10)
    proc = start("recurly", "--port", "0", cwd=tmp_path)
    try:
        lines = read_lines(proc, 2)
        url = lines[0].rsplit(" ", 1)[-1]
        key = lines[1].rsplit(" ", 1)[-1]
        headers = {"Accept": "application/vnd.recurly.v2021-02-25+json"}
        with requests.get(f"{url}/accounts", auth=(key, ""), headers=headers,
                          timeout=10) as ok:
            assert ok.status_code == 200 and ok.json()["object"] == "list"
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=10)
