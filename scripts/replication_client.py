#!/usr/bin/env python3
"""The HTTP side of scripts/replication-check.sh: standard library only.

  replication_client.py publish BASE            publish a product on the primary, then poll
                                                 the catalogue (read from the replica) until it
                                                 is there; prints the seconds it took
  replication_client.py reads BASE N            N catalogue reads; exits 1 unless all are 200
  replication_client.py metric BASE NAME PART   the sum of a /metrics series with PART in it
  replication_client.py ready BASE              /health/ready's replicas as JSON
  replication_client.py load OUT SECONDS BASE…  order load from 8 clients with idempotency
                                                 keys, over every BASE in turn; writes OUT
                                                 (acknowledged order id, tab, Unix time, one
                                                 per line) and prints the status counts as JSON

Every order request carries an Idempotency-Key; a 503 or a connection failure is retried with
the same key (on the next instance) until the answer is 201 or 409, so an order the server
committed but could not acknowledge is acknowledged by the retry, never placed twice.
"""

import json
import random
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid

ADMIN = ("admin@demo.shanhe.cn", "demo-admin-2026")
SHOPPER = ("shopper@demo.shanhe.cn", "demo-shopper-2026")
ADDRESS = {
    "recipient": "林小姐",
    "phone": "13800138000",
    "province": "广东省",
    "city": "汕头市",
    "district": "金平区",
    "line1": "长平路 88 号",
    "postal_code": "515000",
}


def call(base, method, path, body=None, token=None, headers=None, timeout=15):
    """(status, parsed body or text); status 0 when no HTTP answer came at all."""
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base + path, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", "Bearer " + token)
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as res:
            raw, status = res.read(), res.status
    except urllib.error.HTTPError as e:
        raw, status = e.read(), e.code
    except (urllib.error.URLError, OSError):
        return 0, None
    try:
        return status, json.loads(raw)
    except ValueError:
        return status, raw.decode(errors="replace")


def login(base, who):
    status, body = call(base, "POST", "/api/v1/auth/login", {"email": who[0], "password": who[1]})
    if status != 200:
        sys.exit(f"login as {who[0]} failed: {status} {body}")
    return body["access_token"]


def expect(status, body, want, what):
    if status != want:
        sys.exit(f"{what}: expected {want}, got {status} {body}")
    return body


def publish(base):
    admin = login(base, ADMIN)
    coop = expect(*call(base, "POST", "/api/v1/cooperatives", {
        "name": "复制检查合作社 " + uuid.uuid4().hex[:6], "province": "黑龙江省", "city": "鹤岗市",
        "county": "萝北县", "description": "replication check", "contact_phone": "13904680000",
    }, admin), 201, "create a co-op")["id"]
    email = f"owner-{uuid.uuid4().hex[:8]}@replication.example.cn"
    owner = expect(*call(base, "POST", "/api/v1/auth/register", {
        "email": email, "password": "replica-owner-2026", "display_name": "复制检查",
    }), 201, "register the owner")["access_token"]
    expect(*call(base, "POST", f"/api/v1/cooperatives/{coop}/members",
                 {"email": email, "role": "owner"}, admin), 201, "add the owner")
    product = expect(*call(base, "POST", f"/api/v1/cooperatives/{coop}/products", {
        "name": "复制检查大米", "origin": "黑龙江省鹤岗市萝北县", "storage": "ambient",
        "skus": [{"code": "REPL-" + uuid.uuid4().hex[:6], "name": "1 袋", "unit": "袋",
                  "net_weight_grams": 1000, "price": "19.90", "sales_channel": "retail"}],
    }, owner), 201, "create the product")
    # stock enough that the load below still places orders after the failover
    warehouse = expect(*call(base, "POST", f"/api/v1/cooperatives/{coop}/warehouses", {
        "name": "常温仓", "address": "鹤岗市萝北县工业园 1 号", "cold_storage": False,
    }, owner), 201, "create a warehouse")["id"]
    expect(*call(base, "POST", f"/api/v1/cooperatives/{coop}/stock/adjustments", {"adjustments": [
        {"sku_id": product["skus"][0]["id"], "warehouse_id": warehouse, "delta": 20000,
         "reason": "到货"}]}, owner), 200, "receive stock")
    product = product["id"]
    started = time.monotonic()
    expect(*call(base, "POST", f"/api/v1/products/{product}/publish", {}, owner), 200, "publish")
    while time.monotonic() - started < 30:
        status, _ = call(base, "GET", f"/api/v1/products/{product}")
        if status == 200:
            print(f"{time.monotonic() - started:.3f}")
            return
        time.sleep(0.01)
    sys.exit("the published product never appeared in the catalogue")


def reads(base, n):
    bad = 0
    for i in range(int(n)):
        path = "/api/v1/products" if i % 2 == 0 else "/api/v1/products?q=%E5%A4%A7%E7%B1%B3"
        status, body = call(base, "GET", path)
        if status != 200:
            bad += 1
            print(f"GET {path}: {status} {body}", file=sys.stderr)
    print(f"{n} reads, {bad} not 200")
    sys.exit(1 if bad else 0)


def metric(base, name, part):
    _, text = call(base, "GET", "/metrics")
    total = 0.0
    for line in str(text).splitlines():
        if line.startswith(name) and part in line:
            total += float(line.rsplit(" ", 1)[1])
    print(int(total))


def ready(base):
    _, body = call(base, "GET", "/health/ready")
    print(json.dumps(body.get("replicas") if isinstance(body, dict) else body, ensure_ascii=False))


def load(out, seconds, bases):
    token = login(bases[0], SHOPPER)
    _, page = call(bases[0], "GET", "/api/v1/products?in_stock=true&limit=50")
    skus = []
    for product in page["items"]:
        _, detail = call(bases[0], "GET", f"/api/v1/products/{product['id']}")
        skus += [s["id"] for s in detail["skus"]
                 if s["available"] > 0 and s["sales_channel"] != "wholesale"
                 and s["pricing"] == "per_unit" and (s["min_order_quantity"] or 1) <= 1]
    if not skus:
        sys.exit(f"no SKU in stock to order: {page}")
    stop_at = time.monotonic() + float(seconds)
    lock = threading.Lock()
    counts = {}
    acked = []
    gave_up = []

    slowest = [0.0]

    def count(status, took):
        with lock:
            counts[str(status)] = counts.get(str(status), 0) + 1
            slowest[0] = max(slowest[0], took)

    def client(n):
        rng = random.Random(n)
        turn = n
        while time.monotonic() < stop_at:
            key = str(uuid.uuid4())
            body = {"items": [{"sku_id": rng.choice(skus), "quantity": 1}],
                    "shipping_address": ADDRESS}
            deadline = time.monotonic() + 60
            while True:
                base = bases[turn % len(bases)]
                turn += 1
                sent = time.monotonic()
                status, answer = call(base, "POST", "/api/v1/orders", body, token,
                                      {"Idempotency-Key": key}, timeout=20)
                count(status, time.monotonic() - sent)
                if status == 201:
                    with lock:
                        acked.append((answer["id"], time.time()))
                    break
                if status in (409, 422) or (status not in (0, 503)) or time.monotonic() > deadline:
                    if status not in (409,):
                        with lock:
                            gave_up.append((key, status, answer))
                    break
                time.sleep(0.2 + rng.random() * 0.3)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with open(out, "w") as f:
        f.writelines(f"{order}\t{at:.3f}\n" for order, at in acked)
    for key, status, answer in gave_up[:5]:
        print(f"gave up on {key}: {status} {answer}", file=sys.stderr)
    print(json.dumps({"statuses": counts, "acknowledged": len(acked),
                      "distinct": len({order for order, _ in acked}),
                      "unresolved": len(gave_up), "slowest_answer_s": round(slowest[0], 3)}))


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "publish":
        publish(args[0])
    elif cmd == "reads":
        reads(args[0], args[1])
    elif cmd == "metric":
        metric(*args)
    elif cmd == "ready":
        ready(args[0])
    elif cmd == "load":
        load(args[0], args[1], args[2:])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
