"""The rules' import graph has layers and no cycles (docs/design.md, "Layers").

Walks inventory/ with `ast`: every import, at module level and inside functions, relative and
absolute. The rule modules are the domain packages' modules other than views, forms and commands
(api, core, demo_large and migrations are no domain packages). Among them the bottom layer is the
models (every `*.models`), the request lifecycle's enums and table (`requests.lifecycle`), the
roles (`auth.roles`) and the forecast's change hooks (`forecast.changes`): anything may import
them, and they import only each other. Above them:

- packages: an edge A -> B when a rule module of A imports a rule module of B above the bottom
  layer. The domain packages form no cycle: holds/ (locks, availability, backorders) sits under
  stock and requests, which both use it.
- modules: the cycles among rule modules themselves, ALLOWED_MODULE_CYCLES, each with what
  removes it; a cycle not inside one of them fails, and so does a listed cycle that is gone, so
  that the list only shrinks.
"""
import ast
import collections
import pathlib

ROOT = pathlib.Path(__file__).resolve().parent.parent / "inventory"
NOT_DOMAIN = {"api", "core", "demo_large", "migrations"}
BOTTOM_MODULES = {"requests.lifecycle", "auth.roles", "forecast.changes"}

# A bottom module that imports a module above it, and why (each goes when that is fixed).
ALLOWED_UPWARD = set()

ALLOWED_MODULE_CYCLES: list[set[str]] = []


def is_bottom(name):
    """A module of the bottom layer (name without 'inventory.')."""
    return name.endswith(".models") or name in BOTTOM_MODULES


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
    assert ("events.services", "requests.review") in imports  # cancel_event_requests(): from ..requests import review


def test_the_bottom_layer_imports_only_the_bottom_layer():
    upward = sorted((a, b) for a, b in _rule_imports() if is_bottom(a) and not is_bottom(b)
                    and (a, b) not in ALLOWED_UPWARD)
    assert not upward, "a model (or lifecycle, roles, change hook) imports a rule above it: " + ", ".join(
        f"{a} -> {b}" for a, b in upward)


def _above_the_bottom(imports):
    return {(a, b): lines for (a, b), lines in imports.items() if not is_bottom(b)}


def test_no_import_cycle_between_domain_packages():
    edges = _package_edges(_above_the_bottom(_rule_imports()))
    on_cycles = sorted(_edges_on_cycles(edges))
    assert not on_cycles, "import cycle between domain packages:\n" + "\n".join(
        f"{a} -> {b}: " + "; ".join(edges[(a, b)]) for a, b in on_cycles)


def test_no_new_import_cycle_between_rule_modules():
    cycles = _cycles(_rule_imports())
    new = [sorted(c) for c in cycles if not any(c <= allowed for allowed in ALLOWED_MODULE_CYCLES)]
    assert not new, f"new import cycle between rule modules: {new}"


def test_the_allow_lists_name_only_what_is_still_there():
    """When work takes an upward import or a cycle away, its line goes from the list: the lists only shrink."""
    imports = _rule_imports()
    gone = sorted(ALLOWED_UPWARD - set(imports))
    assert not gone, f"no longer imported, delete from ALLOWED_UPWARD: {gone}"
    cycles = _cycles(imports)
    stale = [sorted(allowed) for allowed in ALLOWED_MODULE_CYCLES if not any(c <= allowed for c in cycles)]
    assert not stale, f"no longer a cycle, delete from ALLOWED_MODULE_CYCLES: {stale}"


def test_a_new_cycle_would_be_caught():
    """The check can fail: stock importing a request rule (as it did before holds/) is a cycle."""
    imports = dict(_above_the_bottom(_rule_imports()))
    imports[("stock.services", "requests.review")] = [1]
    assert ("stock", "requests") in _edges_on_cycles(_package_edges(imports))
