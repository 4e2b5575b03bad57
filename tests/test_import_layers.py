"""The rules' import graph has no new cycles (docs/design.md, "Layers").

Walks inventory/ with `ast`: every import, at module level and inside functions, relative and
absolute. The rule modules are the domain packages' modules other than views, forms and commands
(api, core, demo_large and migrations are no domain packages). Two graphs:

- packages: an edge A -> B when a rule module of A imports one of B. Today the domain packages form
  one big cycle; ALLOWED_PACKAGE_EDGES lists the edges on it, each with what takes it off the cycle.
  Any other edge on a cycle fails. An allowed edge that is on no cycle any more fails too, so
  that the list shrinks as the work goes on: delete its line.
- modules: the cycles among rule modules themselves, ALLOWED_MODULE_CYCLES; a cycle that is not
  inside one of them fails, and so does a listed cycle that is gone.
"""
import ast
import collections
import pathlib

ROOT = pathlib.Path(__file__).resolve().parent.parent / "inventory"
NOT_DOMAIN = {"api", "core", "demo_large", "migrations"}

# What takes each edge off the package cycle, in the order the work is planned (issue 17):
CHANGES = "forecast.changes at the bottom: it imports nothing, so its hooks leave the forecast package"
MODELS = "models at the bottom: only the models are imported; goes when models leave the package graph"

ALLOWED_PACKAGE_EDGES = {
    # holds/ took lock_items, fill_backorders and shrink_overbooked out of requests: stock.services
    # imports only requests.models now (OPEN, Request, RequestLine).
    ("stock", "requests"): MODELS,
    # holds/ imports only models and forecast.changes; the edges into and out of it are on the
    # cycle only because those modules sit inside domain packages.
    ("holds", "forecast"): CHANGES,  # holds.locks calls items_changed, note_locked
    ("holds", "catalog"): MODELS,
    ("holds", "requests"): MODELS,  # requests.models and requests.lifecycle (the statuses)
    ("holds", "stock"): MODELS,
    ("events", "holds"): MODELS,
    ("forecast", "holds"): MODELS,
    ("purchasing", "holds"): MODELS,
    ("requests", "holds"): MODELS,
    ("stock", "holds"): MODELS,
    ("catalog", "forecast"): CHANGES,
    ("events", "forecast"): CHANGES,
    ("purchasing", "forecast"): CHANGES,
    ("requests", "forecast"): CHANGES,
    ("stock", "forecast"): CHANGES,
    ("bins", "stock"): MODELS,
    ("catalog", "requests"): MODELS,
    ("catalog", "stock"): MODELS,
    ("events", "catalog"): MODELS,
    ("events", "requests"): MODELS,
    ("forecast", "catalog"): MODELS,
    ("forecast", "events"): MODELS,
    ("forecast", "purchasing"): MODELS,
    ("forecast", "requests"): MODELS,
    ("forecast", "stock"): MODELS,
    ("mail", "catalog"): MODELS,
    ("mail", "events"): MODELS,
    ("mail", "forecast"): MODELS,
    ("purchasing", "bins"): MODELS,
    ("purchasing", "catalog"): MODELS,
    ("purchasing", "events"): MODELS,
    ("purchasing", "requests"): MODELS,
    ("purchasing", "stock"): MODELS,
    ("requests", "bins"): MODELS,
    ("requests", "catalog"): MODELS,
    ("requests", "events"): MODELS,
    ("requests", "mail"): MODELS,
    ("requests", "stock"): MODELS,
    ("stock", "bins"): MODELS,
    ("stock", "catalog"): MODELS,
}

ALLOWED_MODULE_CYCLES = [
    # requests.services imports handover lazily (module __getattr__) and handover, emails import it back
    # (the split of requests into submit / review / fulfilment removes those).
    {"requests.emails", "requests.handover", "requests.services"},
    # catalog.successors checks a successor with catalog rules and catalog.services calls it back.
    {"catalog.services", "catalog.successors"},
    # forecast.models reads EVENT_NAME from forecast.services inside a property: a constant to move down.
    {"forecast.models", "forecast.services"},
]


def _modules():
    modules = {}
    for path in ROOT.rglob("*.py"):
        parts = ["inventory", *path.relative_to(ROOT).with_suffix("").parts]
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    return modules


def _imports(name, path, modules):
    """(imported module, line) for every import in the file, function-level ones included."""
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                parts = parts[:len(parts) - (node.level - 1)]
                base = ".".join(parts + ([node.module] if node.module else []))
            for alias in node.names:
                target = f"{base}.{alias.name}"
                yield (target if target in modules else base), node.lineno
        elif isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno


def _is_rule(name):
    parts = name.split(".")
    if len(parts) < 3 or parts[1] in NOT_DOMAIN:
        return False
    last = parts[-1]
    return not (last == "views" or last.endswith("_views") or last in ("forms", "commands"))


def _rule_imports():
    """{(importer, imported): [line, ...]} between rule modules, names without 'inventory.'."""
    modules = _modules()
    found = collections.defaultdict(list)
    for name, path in modules.items():
        if not _is_rule(name):
            continue
        for target, line in _imports(name, path, modules):
            if target != name and target in modules and _is_rule(target):
                found[(name.split(".", 1)[1], target.split(".", 1)[1])].append(line)
    return found


def _cycles(edges):
    """The strongly connected components with more than one node (Tarjan, iterative enough here)."""
    graph = collections.defaultdict(set)
    for a, b in edges:
        graph[a].add(b)
    index, low, stack, on_stack, out = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.add(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(component)

    for v in sorted(set(graph) | {b for _a, b in edges}):
        if v not in index:
            visit(v)
    return out


def _package_edges(imports):
    edges = collections.defaultdict(list)
    for (a, b), lines in imports.items():
        if a.split(".")[0] != b.split(".")[0]:
            edges[(a.split(".")[0], b.split(".")[0])].extend(f"inventory/{a.replace('.', '/')}.py:{n} imports {b}"
                                                           for n in lines)
    return edges


def _edges_on_cycles(edges):
    components = _cycles(edges)
    return {(a, b) for a, b in edges if any(a in c and b in c for c in components)}


def test_the_walk_sees_function_level_and_relative_imports():
    imports = _rule_imports()
    assert ("catalog.services", "requests.models") in imports  # inside units_on_loan(): from ..requests.models
    assert ("requests.services", "requests.handover") in imports  # from . import handover, in __getattr__


def test_no_new_import_cycle_between_domain_packages():
    edges = _package_edges(_rule_imports())
    new = sorted(_edges_on_cycles(edges) - set(ALLOWED_PACKAGE_EDGES))
    assert not new, "new import cycle between domain packages:\n" + "\n".join(
        f"{a} -> {b}: " + "; ".join(edges[(a, b)]) for a, b in new)


def test_no_new_import_cycle_between_rule_modules():
    cycles = _cycles(_rule_imports())
    new = [sorted(c) for c in cycles if not any(c <= allowed for allowed in ALLOWED_MODULE_CYCLES)]
    assert not new, f"new import cycle between rule modules: {new}"


def test_the_allow_lists_name_only_cycles_that_are_still_there():
    """When work takes an edge or a cycle away, its line goes from the list: the list only shrinks."""
    imports = _rule_imports()
    on_cycles = _edges_on_cycles(_package_edges(imports))
    gone = sorted(set(ALLOWED_PACKAGE_EDGES) - on_cycles)
    assert not gone, f"no longer on a cycle, delete from ALLOWED_PACKAGE_EDGES: {gone}"
    cycles = _cycles(imports)
    stale = [sorted(allowed) for allowed in ALLOWED_MODULE_CYCLES if not any(c <= allowed for c in cycles)]
    assert not stale, f"no longer a cycle, delete from ALLOWED_MODULE_CYCLES: {stale}"
