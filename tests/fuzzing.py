"""Hostile-input fuzzing of every route, form field and query parameter (issue 10), shared by the suite's test
(tests/test_fuzz.py: a sample, about a minute per backend) and the longer run (bench/fuzz_inputs.py).

What is walked, so a new route or field is fuzzed without anyone listing it:
- every rule of the app's URL map, with its id parameters filled with real objects of the test tree;
- every field of every form class (subclasses of posyandu.forms.BaseForm) and every name a view reads from
  request.args / request.form / request.values or int_arg(...), found in the sources.
Each request gives each field either a plausible value (so the request gets past the first check and reaches
deeper code) or a hostile one; the verdict is simply that no answer is a 5xx.
"""
import inspect
import random
import re
import sys
from collections import Counter
from datetime import date
from pathlib import Path

from posyandu import forms as base_forms

from . import incentive_factories, kader_factories
from .test_scope import PLACE_OF_KIND, build

ROOT = Path(__file__).resolve().parents[1] / "posyandu"
HOSTILE = [
    "", " ", "A" * 5000, "x" * 100_000, "²", "①", "١٢٣", "０８１２３４５６７８", "9" * 40, "-" + "9" * 40, "1_000",
    "1e309", "NaN", "-inf", "0", "-1", "0001-01-01", "9999-12-31", "2024-02-30", "2099-01", "0000-00", "31/12/2024",
    "<script>alert(1)</script>", "\"><img src=x onerror=alert(1)>", "=HYPERLINK(\"http://x\")", "+1", "@SUM(A1)",
    "-2+3", "😀𝔄𝔫𝔦 👩‍👧", "%FF%FE", "\ufffd", "[" * 3000, "null", "{}", "[[1,2,3]]", "true", "../../etc/passwd",
    "' OR 1=1 --", "%", "_", "\\",
]
NUL = ["a\x00b", "\x00"]
SKIP_ENDPOINTS = {"static", "assets.file", "auth.logout", "auth.login"}
USERS = ("admin_d", "clerk_a", "ketua_a1", "kader_a1", "nakes_a")


def _subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


_READS = re.compile(r"""(?:request\.(?:args|form|values)\.get(?:list)?|int_arg)\(\s*f?["']([a-z_][\w-]*)["']""")


def _form_fields(app) -> dict[str, list[str]]:
    """Field names of every form class, by class name."""
    out = {}
    with app.test_request_context("/", method="POST"):
        for form_cls in set(_subclasses(base_forms.BaseForm)):
            try:
                form = form_cls(meta={"csrf": False})
            except TypeError:
                continue
            out[form_cls.__name__] = [f.name for f in form if f.name != "csrf_token"]
    return out


def _source(func) -> str:
    try:
        return inspect.getsource(inspect.unwrap(func))
    except (OSError, TypeError):
        return ""


def names_by_endpoint(app) -> dict[str, list[str]]:
    """For each endpoint: the fields of the forms its view (or a helper it calls) uses, and every parameter they
    read by name."""
    fields = _form_fields(app)
    out = {}
    for endpoint, view in app.view_functions.items():
        func = inspect.unwrap(view)
        module = sys.modules.get(func.__module__)
        src = _source(func)
        for helper in set(re.findall(r"\b(_[a-z]\w*)\b", src)):  # one level of the module's own helpers
            if module is not None and callable(getattr(module, helper, None)):
                src += _source(getattr(module, helper))
        names = set(_READS.findall(src))
        for form_name, form_fields in fields.items():
            if re.search(rf"\b{form_name}\(", src):
                names.update(form_fields)
        out[endpoint] = sorted(names | {"q", "page"} if "search_query" in src else names)
    return out


def field_names(app) -> list[str]:
    """Every form field of every form, and every parameter a view reads by name."""
    return sorted({n for names in names_by_endpoint(app).values() for n in names})


def plausible(name: str, tree) -> str:
    """A value that passes the field's first checks, so hostile values elsewhere reach deeper code."""
    today = date.today()
    if name.endswith("_on") or name in ("birth_date", "hpht", "valid_from", "start_date", "end_date", "sk_date"):
        return today.isoformat()
    if name in ("month", "bulan"):
        return today.strftime("%Y-%m")
    if name in ("posyandu_id", "posyandu"):
        return str(tree.posyandu["A1"].id)
    if name in ("kelurahan_id", "kelurahan"):
        return str(tree.kelurahan["A"].id)
    if name in ("person_id", "mother_id", "ibu"):
        return str(tree.people["mother_A1"].id)
    if name.endswith("_id") or name in ("page", "per", "hal", "tahun", "year"):
        return "1" if name != "tahun" else str(today.year)
    if name in ("sex",):
        return "P"
    if name == "signature":
        return kader_factories.STROKES
    if name == "pin":
        return kader_factories.PIN
    if name == "grams":
        return "\n".join(f"{m}: 200" for m in range(1, 61))
    if "kg" in name or "cm" in name:
        return "9,5"
    return "Uji"


def prepare(tree):
    """The objects the id parameters name (made once, before fuzzing)."""
    kader_factories.commitment_of(tree, "A1")
    kader_factories.certificate_of(tree, "A1")
    incentive_factories.batch_of(tree, "A1")


def targets(app, tree):
    """(method, url, endpoint) for every rule of the URL map (each `kind` of a place route)."""
    out = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint in SKIP_ENDPOINTS:
            continue
        converter = rule._converters.get("kind")
        kinds = list(PLACE_OF_KIND) if converter is not None and "kind" in rule.arguments else [None]
        for kind in kinds:
            url = build(tree, rule, "A1", kind)
            for method in sorted(rule.methods & {"GET", "POST"}):
                out.append((method, url, rule.endpoint))
    # reads first, then writes; what removes or closes things last, so the rest still finds its objects
    last = ("hapus", "tutup", "cabut", "akun", "sandi", "pin")
    return sorted(out, key=lambda m: (m[0] == "POST", any(w in m[1] for w in last), m[1]))


def _send(client, method, url, values, query=None):
    try:
        if method == "GET":
            return client.get(url, query_string=query or {}).status_code
        return client.post(url, values).status_code
    except Exception as e:  # the test app propagates what would be a 500 in production
        return 500, repr(e)[:300]


def fuzz(app, tree, login, per_route: int, values_per_field: int = 1, seed: int = 10) -> dict:
    """For every route: find a user it serves (not 403); then make each of `per_route` of its fields (all when
    per_route is 0) hostile in turn with `values_per_field` values, the rest plausible; one request with every
    field hostile; one with a 40-digit id in the path. Returns the figures and every 5xx (with what was sent)."""
    rng = random.Random(seed)
    prepare(tree)
    by_endpoint = names_by_endpoint(app)
    clients = {u: login(u) for u in USERS}
    statuses, failures, requests = Counter(), [], 0

    def record(user, method, url, values, result):
        nonlocal requests
        requests += 1
        code, error = (result, None) if isinstance(result, int) else result
        statuses[code] += 1
        if code >= 500:
            failures.append((user, method, url, error, {k: v[:60] for k, v in values.items()}))
        return code

    routes = targets(app, tree)
    for method, url, endpoint in routes:
        names = by_endpoint.get(endpoint, [])
        base = {name: plausible(name, tree) for name in names}
        base["idempotency_key"] = f"fuzz-{requests}"
        user = None
        for candidate in USERS:  # the first user the route serves (403: not her role)
            code = record(candidate, method, url, base, _send(clients[candidate], method, url, base, base))
            if code != 403:
                user = candidate
                break
        if user is None:
            continue
        client = clients[user]
        chosen = names if not per_route or per_route >= len(names) else rng.sample(names, per_route)
        plans = [[name] for name in chosen for _ in range(values_per_field)] + ([names] if names else [])
        for hostile in plans:
            values = dict(base, idempotency_key=f"fuzz-{requests}")
            for name in hostile:
                values[name] = rng.choice(NUL) if rng.random() < 0.05 else rng.choice(HOSTILE)
            record(user, method, url, values, _send(client, method, url, values, values))
        if re.search(r"/[0-9]+(/|$)", url):
            huge = re.sub(r"/[0-9]+(?=/|$)", "/" + "9" * 40, url, count=1)
            record(user, method, huge, base, _send(client, method, huge, base, base))
    return {"requests": requests, "statuses": dict(sorted(statuses.items())), "failures": failures,
            "fields": len({n for v in by_endpoint.values() for n in v}), "routes": len(routes)}
