#!/usr/bin/env python3
"""Capture exact responses of the real OpenViking 0.5.2 server (stdlib http.client only).

api_key mode server on 127.0.0.1:19333 (root key below), dev mode server on 127.0.0.1:19334.
Writes one JSON object per line to the file named on the command line (default
real-openviking.jsonl). Run against FRESH servers (empty workspaces): duplicate and
isolation cases depend on state. How to start the real server offline: see the README of
this folder. Keys in request headers are recorded as placeholders such as <alice-key>.
"""
import contextlib
import http.client
import json
import sys
import time

API = 19333
DEV = 19334
ROOT = "root-secret-key-0123456789"
OUT = sys.argv[1] if len(sys.argv) > 1 else "real-openviking.jsonl"

out = open(OUT, "w", encoding="utf-8")  # noqa: SIM115 - written by every request below
KEYS = {"root": ROOT}
J = "application/json"


def _dec(b):
    if b is None:
        return None
    if isinstance(b, str):
        return b
    return b.decode("utf-8", errors="backslashreplace")


def req(name, method, path, body=None, headers=None, key="alice", ctype="auto", port=API):
    """headers: list of (name, value) pairs sent in order (duplicates allowed).
    key: name in KEYS for X-API-Key, or None.  ctype: "auto" -> application/json when body given,
    None -> no content-type header, or an explicit string.  body: str/bytes/dict/list or None (no body)."""
    hdrs = []
    if key is not None and port == API:
        hdrs.append(("X-API-Key", KEYS[key]))
    if body is not None and not isinstance(body, (str, bytes)):
        body = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    raw = body.encode("utf-8") if isinstance(body, str) else body
    if raw is not None:
        if ctype == "auto":
            hdrs.append(("Content-Type", J))
        elif ctype is not None:
            hdrs.append(("Content-Type", ctype))
        hdrs.append(("Content-Length", str(len(raw))))
    for h in headers or []:
        hdrs.append(h)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        conn.putrequest(method, path, skip_accept_encoding=True)
        for k, v in hdrs:
            conn.putheader(k, v)
        conn.endheaders(raw)
        resp = conn.getresponse()
        rbody = resp.read()
        rh = {}
        for k, v in resp.getheaders():
            k = k.lower()
            rh[k] = rh[k] + ", " + v if k in rh else v
        response = {"status": resp.status, "headers": rh, "body": _dec(rbody)}
    except Exception as e:  # keep going
        response = {"status": None, "headers": {}, "body": None, "exception": repr(e)}
    finally:
        conn.close()
    shown = []
    for k, v in hdrs:
        if k.lower() in ("x-api-key", "authorization"):
            for kn, kv in KEYS.items():
                if kv and kv in v:
                    v = v.replace(kv, f"<{kn}-key>")
        shown.append([k, v])
    rec = {"name": name, "port": port,
           "request": {"method": method, "path": path, "headers": shown, "body": _dec(raw)},
           "response": response}
    out.write(json.dumps(rec, ensure_ascii=False) + "\n")
    out.flush()
    print(f"{name[:60]:<60} {response['status']} {(response['body'] or '')[:150]}", flush=True)
    return response


def result(resp):
    try:
        return json.loads(resp["body"])["result"]
    except Exception:
        return None


# ---------------------------------------------------------------- health before provisioning
req("health.no_key.pre", "GET", "/health", key=None)

# ---------------------------------------------------------------- admin provisioning
r = req("admin.create_account.acct1", "POST", "/api/v1/admin/accounts",
        {"account_id": "acct1", "admin_user_id": "alice"}, key="root")
KEYS["alice"] = result(r)["user_key"]
r = req("admin.create_user.bob", "POST", "/api/v1/admin/accounts/acct1/users",
        {"user_id": "bob", "role": "user"}, key="root")
KEYS["bob"] = result(r)["user_key"]
KEYS["bad"] = "this-is-not-a-valid-key"

req("admin.create_account.duplicate", "POST", "/api/v1/admin/accounts",
    {"account_id": "acct1", "admin_user_id": "alice"}, key="root")
req("admin.create_user.duplicate", "POST", "/api/v1/admin/accounts/acct1/users",
    {"user_id": "bob", "role": "user"}, key="root")
req("admin.create_account.missing_admin_user_id", "POST", "/api/v1/admin/accounts",
    {"account_id": "acctx"}, key="root")
req("admin.create_account.empty_body_obj", "POST", "/api/v1/admin/accounts", {}, key="root")
req("admin.create_user.missing_user_id", "POST", "/api/v1/admin/accounts/acct1/users",
    {"role": "user"}, key="root")
req("admin.create_user.no_role", "POST", "/api/v1/admin/accounts/acct1/users",
    {"user_id": "carol"}, key="root")
req("admin.create_user.bad_role_superuser", "POST", "/api/v1/admin/accounts/acct1/users",
    {"user_id": "dave", "role": "superuser"}, key="root")
r = req("admin.create_account.acct2", "POST", "/api/v1/admin/accounts",
        {"account_id": "acct2", "admin_user_id": "zed"}, key="root")
with contextlib.suppress(Exception):
    KEYS["zed"] = result(r)["user_key"]
req("admin.alice_creates_user_own_account", "POST", "/api/v1/admin/accounts/acct1/users",
    {"user_id": "erin", "role": "user"}, key="alice")
req("admin.alice_creates_user_other_account", "POST", "/api/v1/admin/accounts/acct2/users",
    {"user_id": "frank", "role": "user"}, key="alice")
req("admin.alice_creates_admin_own_account", "POST", "/api/v1/admin/accounts/acct1/users",
    {"user_id": "gina", "role": "admin"}, key="alice")
req("admin.alice_creates_account", "POST", "/api/v1/admin/accounts",
    {"account_id": "acct3", "admin_user_id": "x"}, key="alice")
req("admin.bob_creates_user", "POST", "/api/v1/admin/accounts/acct1/users",
    {"user_id": "hank", "role": "user"}, key="bob")
req("admin.no_key", "POST", "/api/v1/admin/accounts/acct1/users",
    {"user_id": "ivan", "role": "user"}, key=None)
req("admin.no_key_create_account", "POST", "/api/v1/admin/accounts",
    {"account_id": "acct9", "admin_user_id": "x"}, key=None)
req("admin.bad_key", "POST", "/api/v1/admin/accounts",
    {"account_id": "acct9", "admin_user_id": "x"}, key="bad")
req("admin.user_id_bad_chars", "POST", "/api/v1/admin/accounts/acct1/users",
    {"user_id": "bad user!", "role": "user"}, key="root")
req("admin.account_id_underscore", "POST", "/api/v1/admin/accounts",
    {"account_id": "_acct", "admin_user_id": "x"}, key="root")
req("admin.admin_user_id_bad_chars", "POST", "/api/v1/admin/accounts",
    {"account_id": "acct5", "admin_user_id": "bad user!"}, key="root")
req("admin.create_user_missing_account", "POST", "/api/v1/admin/accounts/nosuchacct/users",
    {"user_id": "jill", "role": "user"}, key="root")
req("admin.list_accounts.root", "GET", "/api/v1/admin/accounts", key="root")
req("admin.list_users.acct1.root", "GET", "/api/v1/admin/accounts/acct1/users", key="root")
req("admin.list_users.acct1.alice", "GET", "/api/v1/admin/accounts/acct1/users", key="alice")

# ---------------------------------------------------------------- health
req("health.no_key", "GET", "/health", key=None)
req("health.alice", "GET", "/health", key="alice")
req("health.root", "GET", "/health", key="root")
req("health.bad_key", "GET", "/health", key="bad")
req("health.bob", "GET", "/health", key="bob")

# ---------------------------------------------------------------- auth
req("auth.list.no_key", "GET", "/api/v1/sessions", key=None)
req("auth.list.bad_key", "GET", "/api/v1/sessions", key="bad")
req("auth.list.bearer_alice", "GET", "/api/v1/sessions", key=None,
    headers=[("Authorization", "Bearer " + KEYS["alice"])])
req("auth.list.authorization_no_bearer", "GET", "/api/v1/sessions", key=None,
    headers=[("Authorization", KEYS["alice"])])
req("auth.list.bearer_bad", "GET", "/api/v1/sessions", key=None,
    headers=[("Authorization", "Bearer " + KEYS["bad"])])
req("auth.list.root", "GET", "/api/v1/sessions", key="root")
req("auth.tasks.root", "GET", "/api/v1/tasks", key="root")
req("auth.list.conflicting_identity_headers", "GET", "/api/v1/sessions", key="alice",
    headers=[("X-OpenViking-Account", "acct2"), ("X-OpenViking-User", "bob")])
req("auth.list.empty_x_api_key", "GET", "/api/v1/sessions", key=None, headers=[("X-API-Key", "")])

# ---------------------------------------------------------------- create
P = "/api/v1/sessions"
req("create.empty_object", "POST", P, "{}")
req("create.no_body_no_ctype", "POST", P, None)
req("create.session_id_empty", "POST", P, '{"session_id":""}')
req("create.s1", "POST", P, '{"session_id":"s1"}')
req("create.s1.duplicate", "POST", P, '{"session_id":"s1"}')
req("create.session_id_int", "POST", P, '{"session_id":123}')
req("create.dotdot_slash_x", "POST", P, '{"session_id":"../x"}')
req("create.dot", "POST", P, '{"session_id":"."}')
req("create.dotdot", "POST", P, '{"session_id":".."}')
req("create.backslash", "POST", P, '{"session_id":"a\\\\b"}')
req("create.drive_letter", "POST", P, '{"session_id":"C:x"}')
req("create.with_space", "POST", P, '{"session_id":"with space"}')
req("create.unicode", "POST", P, '{"session_id":"日本語"}')
req("create.body_null", "POST", P, "null")
req("create.body_array", "POST", P, "[]")
req("create.body_not_json", "POST", P, "not-json")
req("create.text_plain", "POST", P, '{"session_id":"tp"}', ctype="text/plain")
req("create.unknown_field", "POST", P, '{"session_id":"s2","unknown":1}')
req("create.telemetry_true", "POST", P, '{"session_id":"s3","telemetry":true}')
req("create.acp_empty", "POST", P, '{"session_id":"s4","auto_commit_policy":{}}')
req("create.acp_values", "POST", P,
    '{"session_id":"s5","auto_commit_policy":{"pending_token_threshold":5,"message_count_threshold":99999}}')
req("create.acp_null_field", "POST", P, '{"session_id":"s6","auto_commit_policy":{"pending_token_threshold":null}}')
req("create.acp_bogus", "POST", P, '{"session_id":"s7","auto_commit_policy":{"bogus":1}}')
req("create.acp_keep_abc", "POST", P, '{"session_id":"s8","auto_commit_policy":{"keep_recent_count":"abc"}}')
req("create.acp_keep_str7", "POST", P, '{"session_id":"s9","auto_commit_policy":{"keep_recent_count":"7"}}')
req("create.acp_null", "POST", P, '{"session_id":"s10","auto_commit_policy":null}')
req("create.mec_tags", "POST", P,
    '{"session_id":"s11","memory_extraction_config":{"events":{"tags":[" Team=Search ","bad","a=b","a=c"]}}}')
req("create.memory_policy", "POST", P, '{"session_id":"s12","memory_policy":{"memory_types":["profile"]}}')
LONG = "L" * 300
req("create.300_chars", "POST", P, f'{{"session_id":"{LONG}"}}')
# extras
req("create.acp_idle_neg", "POST", P, '{"session_id":"s13","auto_commit_policy":{"idle_timeout_seconds":-1}}')
req("create.acp_full_valid", "POST", P,
    '{"session_id":"s14","auto_commit_policy":{"pending_token_threshold":100,"message_count_threshold":10,"keep_recent_count":2}}')
req("create.slash", "POST", P, '{"session_id":"a/b"}')
req("create.null_session_id", "POST", P, '{"session_id":null}')

# ---------------------------------------------------------------- get
req("get.s1", "GET", P + "/s1")
req("get.s4_acp_empty", "GET", P + "/s4")
req("get.s5_acp_values", "GET", P + "/s5")
req("get.s9_acp_keep7", "GET", P + "/s9")
req("get.s11_mec", "GET", P + "/s11")
req("get.s12_memory_policy", "GET", P + "/s12")
req("get.missing1", "GET", P + "/missing1")
req("get.auto_create_true.missing2", "GET", P + "/missing2?auto_create=true")
req("get.auto_create_1.missing3", "GET", P + "/missing3?auto_create=1")
req("get.auto_create_yes.missing3y", "GET", P + "/missing3y?auto_create=yes")
req("get.auto_create_false.missing4", "GET", P + "/missing4?auto_create=false")
req("get.auto_create_maybe", "GET", P + "/missing5?auto_create=maybe")
req("get.auto_create_empty", "GET", P + "/missing6?auto_create=")
req("get.auto_create_true_and_false", "GET", P + "/missing7?auto_create=true&auto_create=false")
req("get.auto_create_on", "GET", P + "/missing8?auto_create=on")
req("get.auto_create_TRUE", "GET", P + "/missing9?auto_create=TRUE")
req("get.s1.agent_header", "GET", P + "/s1", headers=[("X-OpenViking-Agent", "agent7")])
req("get.s1.actor_peer_header", "GET", P + "/s1", headers=[("X-OpenViking-Actor-Peer", "peer7")])
req("get.with_space", "GET", P + "/with%20space")
req("get.a_slash_b", "GET", P + "/a%2Fb")
req("get.s1.trailing_slash", "GET", P + "/s1/")
req("list.trailing_slash", "GET", P + "/")
req("get.pct_dotdot", "GET", P + "/%2E%2E")
req("get.unicode", "GET", P + "/%E6%97%A5%E6%9C%AC%E8%AA%9E")
req("get.300_chars", "GET", P + "/" + LONG)

# ---------------------------------------------------------------- add message
M = P + "/m1/messages"
req("add.user_content", "POST", M, '{"role":"user","content":"How do I authenticate users?"}')
req("get.m1.after_first_add", "GET", P + "/m1")
req("add.assistant_parts", "POST", M,
    '{"role":"assistant","parts":[{"type":"text","text":"Based on the authentication guide..."},'
    '{"type":"context","uri":"viking://resources/docs/auth/","context_type":"resource","abstract":"Auth guide"}]}')
req("get.m1.after_second_add", "GET", P + "/m1")
req("add.empty_object", "POST", M, "{}")
req("add.role_only", "POST", M, '{"role":"user"}')
req("add.content_null_parts_null", "POST", M, '{"role":"user","content":null,"parts":null}')
req("add.no_role", "POST", M, '{"content":"x"}')
req("add.role_int", "POST", M, '{"role":5,"content":"x"}')
req("add.content_int", "POST", M, '{"role":"user","content":5}')
req("add.content_object", "POST", M, '{"role":"user","content":{"a":1}}')
req("add.content_empty", "POST", M, '{"role":"user","content":""}')
req("add.parts_empty", "POST", M, '{"role":"user","parts":[]}')
req("add.parts_string_item", "POST", M, '{"role":"user","parts":["hello"]}')
req("add.parts_string", "POST", M, '{"role":"user","parts":"hello"}')
req("add.part_unknown_type", "POST", M, '{"role":"user","parts":[{"type":"weird","foo":1}]}')
req("add.part_text_no_text", "POST", M, '{"role":"user","parts":[{"type":"text"}]}')
req("add.part_text_int", "POST", M, '{"role":"user","parts":[{"type":"text","text":5}]}')
req("add.part_no_type", "POST", M, '{"role":"user","parts":[{"text":"no type"}]}')
req("add.context_uri_http", "POST", M,
    '{"role":"user","parts":[{"type":"context","uri":"http://x","context_type":"resource","abstract":"a"}]}')
req("add.context_uri_bogus_scope", "POST", M,
    '{"role":"user","parts":[{"type":"context","uri":"viking://bogus/x","context_type":"resource","abstract":"a"}]}')
req("add.context_uri_empty", "POST", M,
    '{"role":"user","parts":[{"type":"context","uri":"","context_type":"resource","abstract":"a"}]}')
req("add.context_no_uri", "POST", M, '{"role":"user","parts":[{"type":"context","abstract":"a"}]}')
req("add.image_url_empty", "POST", M, '{"role":"user","parts":[{"type":"image_url","image_url":{"url":""}}]}')
req("add.image_url_detail", "POST", M,
    '{"role":"user","parts":[{"type":"image_url","image_url":{"url":"https://x/y.png","detail":"low"}}]}')
req("add.image_url_string", "POST", M, '{"role":"user","parts":[{"type":"image_url","image_url":"https://x/y.png"}]}')
req("add.tool_part", "POST", M,
    '{"role":"assistant","parts":[{"type":"tool","tool_id":"call-1","tool_name":"shell","tool_input":{"cmd":"ls"},'
    '"tool_output":"x","tool_status":"completed"}]}')
req("add.user_two_tool_parts", "POST", M,
    '{"role":"user","parts":[{"type":"tool","tool_id":"call-2","tool_name":"shell","tool_input":{"cmd":"ls"},'
    '"tool_output":"x","tool_status":"completed"},{"type":"tool","tool_id":"call-3","tool_name":"cat",'
    '"tool_input":{"f":"a"},"tool_output":"y","tool_status":"error"}]}')
req("add.role_system", "POST", M, '{"role":"system","content":"s"}')
req("add.role_bogus", "POST", M, '{"role":"bogus","content":"b"}')
req("add.message_kind_nope", "POST", M, '{"role":"user","content":"x","message_kind":"nope"}')
req("add.message_kind_user_query", "POST", M, '{"role":"user","content":"x","message_kind":"user_query"}')
req("add.peer_id_bad", "POST", M, '{"role":"user","content":"x","peer_id":"bad peer!/"}')
req("add.peer_id_spaces", "POST", M, '{"role":"user","content":"x","peer_id":" alice "}')
req("add.peer_id_empty", "POST", M, '{"role":"user","content":"x","peer_id":""}')
req("add.created_at_iso", "POST", M, '{"role":"user","content":"x","created_at":"2026-05-01T12:00:00Z"}')
req("add.created_at_int", "POST", M, '{"role":"user","content":"x","created_at":5}')
req("add.created_at_garbage", "POST", M, '{"role":"user","content":"x","created_at":"yesterday"}')
req("add.turn_id", "POST", M, '{"role":"user","content":"x","turn_id":"t1"}')
req("add.source_message_ids_list", "POST", M, '{"role":"user","content":"x","source_message_ids":["a","b"]}')
req("add.source_message_ids_str", "POST", M, '{"role":"user","content":"x","source_message_ids":"a"}')
req("add.telemetry_true", "POST", M, '{"role":"user","content":"x","telemetry":true}')
req("add.telemetry_summary", "POST", M, '{"role":"user","content":"x","telemetry":{"summary":true}}')
req("add.telemetry_bogus", "POST", M, '{"role":"user","content":"x","telemetry":{"bogus":true}}')
req("add.telemetry_str", "POST", M, '{"role":"user","content":"x","telemetry":"x"}')
req("add.cjk_400_chars", "POST", M, json.dumps({"role": "user", "content": "你好世界" * 100}, ensure_ascii=False))
req("add.emoji", "POST", M, '{"role":"user","content":"😀😀"}')
req("add.malformed_json", "POST", M, '{"role":"user",')
req("add.body_array", "POST", M, "[]")
req("add.body_string", "POST", M, '"str"')
req("add.empty_body_json_ctype", "POST", M, "")
req("add.no_ctype_valid_json", "POST", M, '{"role":"user","content":"noct"}', ctype=None)
req("add.text_plain_valid_json", "POST", M, '{"role":"user","content":"tp"}', ctype="text/plain")
req("add.invalid_utf8", "POST", M, b'{"role":"user","content":"\xff"}')
req("add.nested_2000", "POST", M, '{"role":"user","content":' + "[" * 2000 + "]" * 2000 + "}")
req("add.nested_50", "POST", M, '{"role":"user","content":' + "[" * 50 + "]" * 50 + "}")
req("add.ascii_escaped_unicode", "POST", M, '{"role":"user","content":"\\u00e9t\\u00e9"}')
req("get.m1.after_all_adds", "GET", P + "/m1")
req("context.m1", "GET", P + "/m1/context")
req("add.missing_session_auto1", "POST", P + "/auto1/messages", '{"role":"user","content":"hello auto"}')
req("get.auto1", "GET", P + "/auto1")

# ---------------------------------------------------------------- batch
B = P + "/b1/messages/batch"
V = [{"role": "user", "content": "q1"}, {"role": "assistant", "content": "a1"}, {"role": "user", "content": "q2"}]
req("batch.three_valid", "POST", B, json.dumps({"messages": V}))
req("batch.empty_list", "POST", B, '{"messages":[]}')
req("batch.empty_object", "POST", B, "{}")
req("batch.messages_string", "POST", B, '{"messages":"x"}')
req("batch.middle_invalid", "POST", B,
    json.dumps({"messages": [V[0], {"content": "no role"}, V[1]]}))
req("get.b1.after_invalid_batch", "GET", P + "/b1")
req("batch.101", "POST", B, json.dumps({"messages": [{"role": "user", "content": f"m{i}"} for i in range(101)]}))
req("batch.100", "POST", P + "/b2/messages/batch",
    json.dumps({"messages": [{"role": "user", "content": f"m{i}"} for i in range(100)]}))
req("batch.telemetry", "POST", B, '{"messages":[{"role":"user","content":"x","telemetry":true}],"telemetry":true}')
req("batch.bad_uri_2nd", "POST", B, json.dumps({"messages": [
    V[0],
    {"role": "user", "parts": [{"type": "context", "uri": "http://bad", "context_type": "resource", "abstract": "a"}]},
]}))
req("get.b1.after_bad_uri_batch", "GET", P + "/b1")
req("batch.body_array", "POST", B, "[]")
req("batch.missing_session_auto", "POST", P + "/bauto/messages/batch", json.dumps({"messages": V[:1]}))

# ---------------------------------------------------------------- list / delete
req("list.alice", "GET", P)
req("delete.s2", "DELETE", P + "/s2")
req("delete.s2.again", "DELETE", P + "/s2")
req("delete.never", "DELETE", P + "/never")

# ---------------------------------------------------------------- isolation
req("isolation.bob_get_alice_s1", "GET", P + "/s1", key="bob")
req("isolation.bob_create_s1", "POST", P, '{"session_id":"s1"}', key="bob")
req("isolation.bob_list", "GET", P, key="bob")
req("isolation.bob_get_own_s1", "GET", P + "/s1", key="bob")

# ---------------------------------------------------------------- routing
req("route.api_nope", "GET", "/api/v1/nope")
req("route.s1_nope", "GET", P + "/s1/nope")
req("route.get_messages", "GET", P + "/s1/messages")
req("route.put_session", "PUT", P + "/s1", "{}")
req("route.patch_session", "PATCH", P + "/s1", "{}")
req("route.post_session", "POST", P + "/s1", "{}")
req("route.delete_list", "DELETE", P)
req("route.head_session", "HEAD", P + "/s1")
req("route.options_session", "OPTIONS", P + "/s1")
req("route.options_session_cors", "OPTIONS", P + "/s1",
    headers=[("Origin", "http://example.com"), ("Access-Control-Request-Method", "GET")])
req("route.root", "GET", "/", key=None)
req("route.nope_no_key", "GET", "/api/v1/nope", key=None)
req("route.get_messages_batch", "GET", P + "/s1/messages/batch")
req("route.get_commit", "GET", P + "/s1/commit")

# ---------------------------------------------------------------- x-request-id
req("reqid.valid", "GET", P + "/s1", headers=[("X-Request-ID", "abc-123")])
req("reqid.invalid", "GET", P + "/s1", headers=[("X-Request-ID", "bad id!")])
req("reqid.two_headers", "GET", P + "/s1", headers=[("X-Request-ID", "first-1"), ("X-Request-ID", "second-2")])
req("reqid.long", "GET", P + "/s1", headers=[("X-Request-ID", "r" * 300)])

# ---------------------------------------------------------------- commit / tasks / context / archives
for sid in ("c1", "c2", "c3", "c4", "c5", "c6", "c7", "c8"):
    req(f"setup.batch.{sid}", "POST", P + f"/{sid}/messages/batch", json.dumps({"messages": V}))
req("context.c1.before_commit", "GET", P + "/c1/context")
r = req("commit.c1.no_body", "POST", P + "/c1/commit", None)
task1 = (result(r) or {}).get("task_id")
r = req("commit.c2.keep1", "POST", P + "/c2/commit", '{"keep_recent_count":1}')
task2 = (result(r) or {}).get("task_id")
req("commit.c3.keep_neg1", "POST", P + "/c3/commit", '{"keep_recent_count":-1}')
req("commit.c3.keep_str2", "POST", P + "/c3/commit", '{"keep_recent_count":"2"}')
req("commit.c4.keep_2_5", "POST", P + "/c4/commit", '{"keep_recent_count":2.5}')
req("commit.c4.keep_2_0", "POST", P + "/c4/commit", '{"keep_recent_count":2.0}')
req("commit.c5.keep_true", "POST", P + "/c5/commit", '{"keep_recent_count":true}')
req("commit.c6.keep_10001", "POST", P + "/c6/commit", '{"keep_recent_count":10001}')
req("commit.c6.keep_turn_no_mode", "POST", P + "/c6/commit", '{"keep_recent_turn_count":2}')
req("commit.c6.keep_turn_with_mode", "POST", P + "/c6/commit",
    '{"retention_mode":"turn_budget","keep_recent_turn_count":2}')
req("commit.c7.keep_null", "POST", P + "/c7/commit", '{"keep_recent_count":null}')
req("commit.c7.body_array", "POST", P + "/c7/commit", "[]")
req("commit.c7.empty_obj", "POST", P + "/c7/commit", "{}")
req("commit.empty_session.s4", "POST", P + "/s4/commit", "{}")
req("commit.missing_session", "POST", P + "/nocommit/commit", "{}")
req("setup.batch.k1", "POST", P + "/k1/messages/batch", json.dumps({"messages": V[:2]}))
req("commit.k1.keep10_two_msgs", "POST", P + "/k1/commit", '{"keep_recent_count":10}')
req("commit.c8.keep_3_all", "POST", P + "/c8/commit", '{"keep_recent_count":3}')
req("commit.c8.keep_0_again_zero", "POST", P + "/c8/commit", '{"keep_recent_count":0}')
for sid in ("c1", "c2", "c3", "c4", "c5", "c6", "c7", "c8", "k1"):
    req(f"get.{sid}.after_commit", "GET", P + "/" + sid)
if task1:
    req("task.get.immediate", "GET", "/api/v1/tasks/" + task1)
req("task.list.immediate", "GET", "/api/v1/tasks")
req("context.c1.after_commit", "GET", P + "/c1/context")
req("archive.c1.001.immediate", "GET", P + "/c1/archives/archive_001")
print("sleeping 35s for background tasks...", flush=True)
time.sleep(35)
if task1:
    req("task.get.after_35s", "GET", "/api/v1/tasks/" + task1)
if task2:
    req("task2.get.after_35s", "GET", "/api/v1/tasks/" + task2)
req("task.list", "GET", "/api/v1/tasks")
req("task.list.filtered", "GET", "/api/v1/tasks?task_type=session_commit&status=failed&limit=5")
req("task.list.limit0", "GET", "/api/v1/tasks?limit=0")
req("task.list.limit201", "GET", "/api/v1/tasks?limit=201")
req("task.list.limit200", "GET", "/api/v1/tasks?limit=200")
req("task.list.status_bogus", "GET", "/api/v1/tasks?status=bogus")
if task1:
    req("task.cancel", "POST", f"/api/v1/tasks/{task1}/cancel", None)
    req("task.bob_get_alice_task", "GET", "/api/v1/tasks/" + task1, key="bob")
req("task.get.nonexistent", "GET", "/api/v1/tasks/nonexistent")
req("context.c1.after_commit_35s", "GET", P + "/c1/context")
req("context.missing.token_budget_neg1", "GET", P + "/nocx/context?token_budget=-1")
req("context.c1.token_budget_neg1", "GET", P + "/c1/context?token_budget=-1")
req("context.c1.token_budget_abc", "GET", P + "/c1/context?token_budget=abc")
req("context.c1.token_budget_1", "GET", P + "/c1/context?token_budget=1")
req("context.c2.token_budget_0", "GET", P + "/c2/context?token_budget=0")
req("archive.c1.001", "GET", P + "/c1/archives/archive_001")
req("archive.c1.999", "GET", P + "/c1/archives/archive_999")
req("archive.c1.bogus_name", "GET", P + "/c1/archives/foo")
req("archive.missing_session", "GET", P + "/nosess/archives/archive_001")
req("config.c1.acp_mct5", "PATCH", P + "/c1/config", '{"auto_commit_policy":{"message_count_threshold":5}}')
req("get.c1.after_config", "GET", P + "/c1")
req("config.c1.empty", "PATCH", P + "/c1/config", "{}")
req("config.c1.bogus", "PATCH", P + "/c1/config", '{"bogus":1}')
req("config.missing_session", "PATCH", P + "/nocfg/config", '{"auto_commit_policy":{"message_count_threshold":5}}')
req("config.c1.acp_null", "PATCH", P + "/c1/config", '{"auto_commit_policy":null}')
req("tool_results.c1", "GET", P + "/c1/tool-results")
req("tool_results.m1", "GET", P + "/m1/tool-results")
req("list.alice.final", "GET", P)

# ---------------------------------------------------------------- dev mode
req("dev.health", "GET", "/health", port=DEV)
req("dev.create.d1", "POST", P, '{"session_id":"d1"}', port=DEV)
req("dev.get.d1", "GET", P + "/d1", port=DEV)
req("dev.get.d1.user_bob", "GET", P + "/d1", headers=[("X-OpenViking-User", "bob")], port=DEV)
req("dev.get.d1.account_bad", "GET", P + "/d1", headers=[("X-OpenViking-Account", "_bad")], port=DEV)
req("dev.get.d1.user_bad_chars", "GET", P + "/d1", headers=[("X-OpenViking-User", "bad user!")], port=DEV)
req("dev.get.d1.agent_a1", "GET", P + "/d1", headers=[("X-OpenViking-Agent", "a1")], port=DEV)
req("dev.get.d1.actor_peer_a1", "GET", P + "/d1", headers=[("X-OpenViking-Actor-Peer", "a1")], port=DEV)
req("dev.get.d1.default_headers_explicit", "GET", P + "/d1",
    headers=[("X-OpenViking-Account", "default"), ("X-OpenViking-User", "default")], port=DEV)
req("dev.list", "GET", P, port=DEV)
req("dev.list.user_bob", "GET", P, headers=[("X-OpenViking-User", "bob")], port=DEV)
req("dev.health.with_key", "GET", "/health", headers=[("X-API-Key", "anything")], port=DEV)
req("dev.list.with_random_key", "GET", P, headers=[("X-API-Key", "anything")], port=DEV)
req("dev.admin.create_account", "POST", "/api/v1/admin/accounts",
    '{"account_id":"acct1","admin_user_id":"alice"}', port=DEV)

out.close()
print("done", flush=True)
