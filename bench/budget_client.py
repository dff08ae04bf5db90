"""The command budget's load client, run as a subprocess of its own (`python -c CLIENT port kind ...`) so
that none of its CPU lands in the measured process."""

CLIENT = r'''
import http.client, json, sys, threading, urllib.parse
port, kind, warmup, workflows, clients, due, result = sys.argv[1], sys.argv[2], *map(int, sys.argv[3:6]), *sys.argv[6:8]
def call(conn, method, path, body=None, headers=None, form=False):
    headers = dict(headers or {})
    if body is not None:
        if form:
            body, headers["Content-Type"] = urllib.parse.urlencode(body), "application/x-www-form-urlencoded"
        else:
            body, headers["Content-Type"] = json.dumps(body), "application/json"
    conn.request(method, path, body=body, headers=headers)
    response = conn.getresponse()
    return response.status, response.read()
def connect():
    return http.client.HTTPConnection("127.0.0.1", int(port), timeout=30)
def bearer(name):
    if kind != "ours":
        return {}
    status, data = call(connect(), "POST", "/auth/token", {"username": name, "password": name}, form=True)
    assert status == 200, (status, data)
    return {"Authorization": "Bearer " + json.loads(data)["access_token"]}
sara, hana = bearer("sara"), bearer("hana")
def workflow(conn, n):
    status, data = call(conn, "POST", "/tasks", {"title": f"Task {n}", "assignee": "sara", "due": due}, sara)
    assert status == 201, (status, data[:300])
    task = json.loads(data)["id"]
    for action, body, who in (("start", None, sara), ("submit", {"result": result}, sara), ("approve", None, hana)):
        status, data = call(conn, "POST", f"/tasks/{task}/{action}", body, who)
        assert status == 200, (action, status, data[:300])
connections = [connect() for _ in range(clients)]
failed = []
def run(index, first, count):
    try:
        for n in range(first, first + count):
            workflow(connections[index], n)
    except BaseException as error:
        failed.append(error)
def together(first, count):
    threads = [threading.Thread(target=run, args=(i, first + count * i // clients,
                                                  count * (i + 1) // clients - count * i // clients))
               for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failed:
        raise failed[0]
together(0, warmup)
print("ready", flush=True)
sys.stdin.readline()
together(warmup, workflows)
print("done", flush=True)
'''
