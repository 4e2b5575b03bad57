"""Search that finds what people type: words in any order, each matching the start of a word of
the product's name, SKUs, suppliers, category, description, keywords or its collateral files'
titles and names, plurals folded
("brochures" finds the brochure), ranked exact SKU first, then name matches.

Each product keeps its words in `Product.search_words`, written by `refresh` (or `product_words`
for bulk inserts) whenever a rule changes the product or its items:

    " navy polo ~ polonavys polo navy s ... threadline apparel embroider logo ... shirt tee"

lower case, accents folded, punctuation to spaces, every word stemmed (see `stem`) and prefixed
by a space, so that `LIKE '% polo%'` is "a word starting with polo". The name's words come first,
up to NAME_END (" ~", which no word contains): `LIKE '% polo%~%'` is "a word of the name starting
with polo", which ranks name matches above the others. The query's words go through the same
`words`, so stored and typed text always meet in the same form.
"""
from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Callable, Iterable
from typing import cast

from sqlalchemy import BindParameter, Case, ColumnElement, Table, and_, bindparam, case, func, or_, select, update

from ..database import SessionLike
from ..text import clean, contains, escape_like
from ..files.models import ItemFile
from .models import CATEGORY_LABELS, Item, Product

NAME_END = " ~"
MAX_WORDS = 8  # a query's words past this many are left out (each is one LIKE)
_NOT_A_LETTER = re.compile(r"[\W_]+")
# Words whose -s or -ies is not a plural (more need not be listed: a word kept whole is still
# found by its own prefix, so a missed plural only costs the singular query a match of the plural).
_KEEP = frozenset({"series", "species", "news", "lens", "plus", "yes", "its", "this", "thus", "always"})


def normal(text: str | None) -> str:
    """Lower case, accents folded (é → e), every run of punctuation or spaces one space."""
    text = unicodedata.normalize("NFKD", clean(text).casefold())
    text = "".join(char for char in text if not unicodedata.combining(char))
    return _NOT_A_LETTER.sub(" ", text).strip()


def stem(word: str) -> str:
    """A word's plural folded to its singular: polos → polo, boxes → box, flies → fly. Words in
    -ie meet their plurals the same way (hoodie and hoodies → hoody, beanie(s) → beany), so
    either finds the other. Applied alike to stored and typed words; a word it leaves alone is
    still found by its start."""
    if len(word) > 4 and word.endswith("ie"):
        return word[:-2] + "y"
    if len(word) <= 3 or word in _KEEP or not word.endswith("s") or word.endswith(("ss", "us", "is", "as")):
        return word
    if word.endswith("ies"):
        return word[:-3] + "y" if len(word) > 4 else word[:-1]  # ties → tie
    if word.endswith(("xes", "ches", "shes", "sses")):
        return word[:-2]
    return word[:-1]


def words(text: str | None) -> list[str]:
    """The stems of the words of `text`, in order, each once."""
    return list(dict.fromkeys(stem(word) for word in normal(text).split()))


def query_words(q: str | None) -> list[str]:
    """The words of a search, at most MAX_WORDS."""
    return words(q)[:MAX_WORDS]


def product_words(name: str, category: str, description: str | None, keywords: str | None,
                  items: Iterable[tuple[str, str | None]], files: Iterable[str] = ()) -> str:
    """The search_words of a product; `items` are (sku, supplier) pairs, `files` the titles and
    names of its items' collateral files."""
    named = words(name)
    rest = []
    for sku, supplier in items:
        joined = "".join(normal(sku).split())
        rest += [joined, *words(sku), *words(supplier)]
    rest += [category or "", *words(CATEGORY_LABELS.get(category, "")), *words(description), *words(keywords)]
    for text in files:
        rest += words(text)
    rest = [word for word in dict.fromkeys(rest) if word and word not in named]
    return "".join(f" {word}" for word in named) + NAME_END + "".join(f" {word}" for word in rest)


def refresh(session: SessionLike, product_ids: Iterable[int | None]) -> None:
    """Write search_words of these products from what they and their items hold now (flushed
    first), in the caller's transaction: a few statements per 500 products, whatever their number."""
    ids = sorted({product_id for product_id in product_ids if product_id is not None})
    if not ids:
        return
    session.flush()
    # A Table (the declarative base types __table__ as a FromClause, which update() does not take).
    product, item = cast(Table, Product.__table__), Item.__table__
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        pairs: dict[int, list[tuple[str, str | None]]] = {}
        for product_id, sku, supplier in session.execute(
                select(item.c.product_id, item.c.sku, item.c.supplier).where(item.c.product_id.in_(chunk))
                .order_by(item.c.product_id, item.c.size_rank, item.c.size, item.c.sku)):
            pairs.setdefault(product_id, []).append((sku, supplier))
        files: dict[int, list[str]] = {}
        for product_id, title, filename in session.execute(
                select(item.c.product_id, ItemFile.title, ItemFile.filename).join(ItemFile, ItemFile.item_id == item.c.id)
                .where(item.c.product_id.in_(chunk)).order_by(item.c.product_id, ItemFile.id)):
            files.setdefault(product_id, []).extend((title, filename))
        rows = [{"b_id": product_id, "b_words": product_words(name, category, description, keywords,
                                                             pairs.get(product_id, []), files.get(product_id, []))}
                for product_id, name, category, description, keywords in session.execute(
                    select(product.c.id, product.c.name, product.c.category, product.c.description,
                           product.c.keywords).where(product.c.id.in_(chunk)))]
        if rows:
            session.execute(update(product).where(product.c.id == bindparam("b_id"))
                            .values(search_words=bindparam("b_words")), rows)
    # The ORM's copies of these products do not know of the UPDATE: read it again when asked.
    wanted = set(ids)
    for obj in list(session.identity_map.values()):
        if isinstance(obj, Product) and obj.id in wanted:
            session.expire(obj, ["search_words"])


# --- the query --------------------------------------------------------------------------------

def word_pattern(word: str) -> str:
    """LIKE pattern: a stored word starting with `word`."""
    return f"% {escape_like(word)}%"


def name_pattern(word: str) -> str:
    """LIKE pattern: a word of the name (before NAME_END) starting with `word`."""
    return f"% {escape_like(word)}%~%"


def params(q: str | None) -> dict[str, str]:
    """The bind parameters of `matching(len(query_words(q)))` and `rank(...)` for the search `q`."""
    found = query_words(q)
    values = {"exact_sku": clean(q).upper(), "contains": contains(q)}
    for n, word in enumerate(found):
        values[f"w{n}"] = word_pattern(word)
        values[f"n{n}"] = name_pattern(word)
    return values


def _like(n: int, prefix: str) -> ColumnElement[bool]:
    return Product.search_words.like(bindparam(f"{prefix}{n}"), escape="\\")


def _exact_sku() -> ColumnElement[bool]:
    return Product.id.in_(select(Item.product_id).where(Item.sku == bindparam("exact_sku")))


def matching(count: int) -> ColumnElement[bool]:
    """The WHERE clause of a search of `count` words (bind parameters from `params`): every word
    starts a word of the product's words, or the text is one of its SKUs. No words (only
    punctuation was typed, "%" or "_"): the text as it is, anywhere in the name, a SKU or a
    supplier (so "%" finds the "100% cotton tee")."""
    if not count:
        like: BindParameter[str] = bindparam("contains")
        return or_(func.lower(Product.name).like(like, escape="\\"), Product.id.in_(
            select(Item.product_id).where(or_(func.lower(Item.sku).like(like, escape="\\"),
                                              func.lower(Item.supplier).like(like, escape="\\")))))
    return or_(and_(*[_like(n, "w") for n in range(count)]), _exact_sku())


def rank(count: int, exact: ColumnElement[bool] | None = None) -> Case[int]:
    """0 for the product (or item: `exact` is its own SKU test) whose SKU is what was typed,
    1 when every word is in the name, 2 for the others."""
    whens = [(_exact_sku() if exact is None else exact, 0)]
    if count:
        whens.append((and_(*[_like(n, "n") for n in range(count)]), 1))
    return case(*whens, else_=2)


def resolved(q: str | None) -> tuple[list[str] | None, dict[str, str]]:
    """(words, bind parameters) for a typed search; ([], {}) when nothing was typed."""
    if not clean(q):
        return None, {}
    return query_words(q), params(q)


def did_you_mean(session: SessionLike, q: str | None, has_matches: Callable[[str], bool]) -> str | None:
    """A search close to `q` made of the catalog's own words ('flyr' → 'flyer'), or None when no
    word needs changing or the changed search would find nothing either. `has_matches(text)`
    says whether a search finds anything. One query for the catalog's words."""
    typed = query_words(q)
    if not typed:
        return None
    vocabulary: set[str] = set()
    for (stored,) in session.execute(select(Product.search_words).where(Product.archived.is_(False))):
        # Words, not numbers or SKUs run together ("polonavym"): those are no one's typo.
        vocabulary.update(word for word in stored.split() if word != "~" and not any(c.isdigit() for c in word))
    changed, wanted = False, []
    for word in typed:
        if any(known.startswith(word) for known in vocabulary):
            wanted.append(word)
            continue
        close = difflib.get_close_matches(word, vocabulary, n=1, cutoff=0.7)
        if not close:
            return None
        wanted.append(close[0])
        changed = True
    if not changed:
        return None
    suggestion = " ".join(wanted)
    return suggestion if has_matches(suggestion) else None


def category_counts(session: SessionLike, q: str | None) -> dict[str, int]:
    """{category: products} for a search over every category (`q` empty: the whole catalog),
    active products only, in one query."""
    found, values = resolved(q)
    statement = select(Product.category, func.count(Product.id)).where(Product.archived.is_(False))
    if found is not None:
        statement = statement.where(matching(len(found)))
    return dict(session.execute(statement.group_by(Product.category), values).tuples().all())
