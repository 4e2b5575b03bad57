"""Search that finds what people type: words in any order, each the start of a word of the name,
SKUs, suppliers, category, description or keywords; plurals folded; exact SKU first, then name
matches; the same search on the catalog page, in the API's q and in the code boxes' suggestions;
an empty result says what to try next."""
import importlib.util
import os

import pytest
from sqlalchemy import select, update

from inventory.auth import services as auth
from inventory.catalog import queries as catalog_queries
from inventory.catalog import search
from inventory.catalog import services as catalog
from inventory.catalog.models import Product
from inventory.extensions import db
from inventory.transfer import exports
from inventory.transfer import services as transfer


@pytest.fixture
def shelf(make_item, make_product):
    """A small catalog like the demo's."""
    navy = make_product("Navy polo", "POLO-NAVY", sizes={"S": 0, "M": 0, "L": 0}, supplier="Threadline Apparel",
                        keywords="shirt, tee", description="Embroidered logo on the chest.")
    black = make_product("Black polo", "POLO-BLACK", sizes={"M": 0}, supplier="Threadline Apparel")
    make_item("BRO-NIMBUS-26", name="Nimbus product brochure 2026", category="print", supplier="PrintWorks Ltd")
    make_item("BRO-ATLAS-26", name="Atlas product brochure 2026", category="print", supplier="PrintWorks Ltd")
    make_item("FLY-ATLAS", name="Atlas one-pager", category="print", keywords="flyer, leaflet")
    make_item("PEN-LOGO", name="Logo ballpoint pen", category="promo", supplier="PromoHub")
    make_item("BOX-GIFT", name="Gift box", category="promo")
    make_item("MUG-CAFE", name="Café mug", category="promo")
    make_item("TEE-100", name="Tee 100% cotton", category="apparel")
    return {"navy": navy, "black": black}


def names(session, q, **kwargs):
    return [product.name for product in catalog_queries.search_products(session, q=q, **kwargs).rows]


# The words --------------------------------------------------------------------------------------

@pytest.mark.parametrize("word, stemmed", [
    ("polos", "polo"), ("brochures", "brochure"), ("pens", "pen"), ("boxes", "box"), ("flies", "fly"),
    ("brushes", "brush"), ("glasses", "glass"), ("glass", "glass"), ("nimbus", "nimbus"), ("atlas", "atlas"),
    ("series", "series"), ("bus", "bus"), ("tees", "tee"), ("polo", "polo"), ("xs", "xs"), ("caps", "cap"),
    ("hoodie", "hoody"), ("hoodies", "hoody"), ("beanies", "beany"), ("ties", "tie"), ("tie", "tie"),
])
def test_plurals_fold_to_their_singular(word, stemmed):
    assert search.stem(word) == stemmed


@pytest.mark.parametrize("name, q", [
    ("Zip hoodies", "hoodie"), ("Zip hoodie", "hoodies"), ("Knit beanies", "beanie"), ("Knit beanie", "beanies"),
    ("Choc cookies", "cookie"), ("Silk ties", "tie"), ("Silk tie", "ties"),
])
def test_singular_and_plural_of_ie_words_find_each_other(session, make_item, name, q):
    make_item("SWAG-1", name=name, category="apparel")
    assert names(session, q) == [name]


def test_words_are_lower_case_without_accents_or_punctuation():
    assert search.words("Café CRÈME—one-pager, 100%!") == ["cafe", "creme", "one", "pager", "100"]
    assert search.words("Polos polo POLO") == ["polo"]
    assert search.words("%_ \\") == []


def test_stored_words_put_the_name_first_then_everything_else(session, shelf):
    words = session.get(Product, shelf["navy"].id).search_words
    name, rest = words.split(search.NAME_END)
    assert name == " navy polo"
    for word in ["polonavys", "s", "m", "l", "threadline", "apparel", "embroider", "logo", "chest", "shirt", "tee"]:
        assert f" {word}" in rest


# Finding ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("q, found", [
    ("polo navy", ["Navy polo"]),
    ("navy polos", ["Navy polo"]),
    ("nimbus brochure", ["Nimbus product brochure 2026"]),
    ("brochures", ["Atlas product brochure 2026", "Nimbus product brochure 2026"]),
    ("pens", ["Logo ballpoint pen"]),
    ("boxes", ["Gift box"]),
    ("polos", ["Black polo", "Navy polo"]),
    ("threadline navy", ["Navy polo"]),        # a supplier's word and a name's
    ("printworks", ["Atlas product brochure 2026", "Nimbus product brochure 2026"]),
    ("embroidered", ["Navy polo"]),            # the description
    ("bro", ["Atlas product brochure 2026", "Nimbus product brochure 2026"]),  # the start of a word
    ("ATLAS one", ["Atlas one-pager"]),
])
def test_search_finds_what_people_type(session, shelf, q, found):
    assert sorted(names(session, q)) == found


def test_every_word_must_match_the_start_of_a_word(session, shelf):
    assert names(session, "navy pen") == []
    assert names(session, "avy") == []           # inside a word, not at its start
    assert names(session, "navy", category="print") == []
    assert names(session, "polo", category="apparel") == ["Black polo", "Navy polo"]


def test_keywords_find_a_product_by_the_words_people_use_for_it(session, shelf):
    assert names(session, "flyer") == ["Atlas one-pager"]
    assert names(session, "leaflets") == ["Atlas one-pager"]
    assert names(session, "navy shirt") == ["Navy polo"]


def test_accents_are_folded_both_ways(session, shelf):
    assert names(session, "cafe") == ["Café mug"]
    assert names(session, "CAFÉ mugs") == ["Café mug"]


def test_like_wildcards_typed_are_taken_literally(session, shelf):
    assert names(session, "100%") == ["Tee 100% cotton"]
    assert names(session, "%") == ["Tee 100% cotton"]  # only punctuation: the text as it is, anywhere
    assert names(session, "_") == []
    assert names(session, "n_vy") == []
    assert search.word_pattern("a%b_c\\") == "% a\\%b\\_c\\\\%"


def test_exact_sku_first_then_name_matches_then_the_rest(session, make_item, make_product):
    make_item("CAP-1", name="Cap", category="apparel", supplier="Navy Supplies")  # a supplier's word
    make_product("Navy polo", "POLO-NAVY", sizes={"S": 0, "M": 0})                 # the name
    make_item("NAVY", name="Strap", category="promo")                              # the SKU typed
    assert names(session, "") == ["Cap", "Navy polo", "Strap"]  # the catalog's order
    assert names(session, "navy") == ["Strap", "Navy polo", "Cap"]
    assert names(session, "polo-navy-m") == ["Navy polo"]
    page, _on_hand, _held = catalog_queries.catalog_page(session, q="navy")
    assert [p.name for p in page.rows] == ["Strap", "Navy polo", "Cap"] and page.total == 3
    page, _on_hand, _held = catalog_queries.catalog_page(session, q="navy", per_page=1, page=2)
    assert [p.name for p in page.rows] == ["Navy polo"] and page.total == 3


def test_catalog_page_and_search_products_agree_for_any_number_of_words(session, shelf):
    for q in ["", "polo", "navy polos", "a b c", "atlas product brochure 2026", "nothing at all", "%", "POLO-NAVY-M",
              "one two three four five six seven eight nine ten"]:
        for category in (None, "print"):
            expected = catalog_queries.search_products(session, q=q, category=category)
            page, _on_hand, _held = catalog_queries.catalog_page(session, q=q, category=category)
            assert [p.id for p in page.rows] == [p.id for p in expected.rows], q
            assert page.total == expected.total


# Kept current ------------------------------------------------------------------------------------

def test_every_rule_that_changes_a_product_keeps_its_words(session, shelf):
    navy = shelf["navy"]
    catalog.update_product(session, navy, name="Midnight polo", category="apparel", keywords="golf shirt")
    assert names(session, "midnight") == ["Midnight polo"] and names(session, "golf") == ["Midnight polo"]
    assert names(session, "tee") == ["Tee 100% cotton"]  # its old keywords are gone
    catalog.update_product(session, navy, name="Midnight polo", category="apparel")  # keywords kept
    assert names(session, "golf") == ["Midnight polo"]
    catalog.update_item(session, navy.items[0], supplier="Stitchery")
    assert names(session, "stitchery") == ["Midnight polo"]
    catalog.apply_to_all_sizes(session, shelf["black"], supplier="Knit & Co")
    assert names(session, "knit") == ["Black polo"] and names(session, "threadline") == ["Midnight polo"]
    catalog.add_size(session, shelf["black"], "XXL", sku="BLK-XXL")
    assert names(session, "blk") == ["Black polo"]


def test_the_migration_backfill_writes_what_the_rules_write(session, shelf):
    path = os.path.join(os.path.dirname(search.__file__), "..", "migrations", "versions", "0018_search_words.py")
    spec = importlib.util.spec_from_file_location("migration_0018", path)
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    before = dict(session.execute(select(Product.id, Product.search_words)).all())
    session.execute(update(Product).values(search_words=""))
    assert migration.backfill_search_words(session.connection()) == len(before)
    assert dict(session.execute(select(Product.id, Product.search_words)).all()) == before


# Did you mean ------------------------------------------------------------------------------------

def test_did_you_mean_offers_a_search_made_of_the_catalogs_words(session, shelf):
    def help_for(q, category=None):
        return catalog_queries.empty_search_help(session, q, category)

    assert help_for("flyr")[0] == "flyer"
    assert help_for("polp navy")[0] == "polo navy"
    assert help_for("brocure nimbus")[0] == "brochure nimbus"
    assert help_for("qqqqzzzz")[0] is None
    assert help_for("navy pen")[0] is None        # every word is the catalog's: nothing to correct
    suggestion, elsewhere, everything = help_for("pens", "apparel")
    assert suggestion is None and elsewhere == {"promo": 1} and everything == {}
    suggestion, elsewhere, everything = help_for("qqqqzzzz")
    assert elsewhere == {} and everything == {"apparel": 3, "print": 3, "promo": 3}


# Pages and the API --------------------------------------------------------------------------------

def test_the_catalog_page_finds_navy_polos(client, login, shelf):
    login("rep")
    html = client.get("/catalog?q=navy+polos").get_data(as_text=True)
    assert "Navy polo" in html and "Black polo" not in html and "Nothing matches" not in html


def test_an_empty_result_says_what_to_try_next(client, login, shelf):
    login("rep")
    html = client.get("/catalog?q=pens&category=apparel").get_data(as_text=True)
    assert "Nothing matches “pens” in Apparel." in html and "Try fewer letters" not in html
    assert "Found in other categories" in html
    assert 'href="/catalog?category=promo&amp;q=pens">Promo <span class="count">1</span>' in html
    assert 'href="/catalog" class="clear-search"' in html
    html = client.get("/catalog?q=flyr").get_data(as_text=True)
    assert 'Did you mean: <a href="/catalog?q=flyer">flyer</a>?' in html
    html = client.get("/catalog?q=qqqqzzzz").get_data(as_text=True)
    assert "Browse a category instead" in html and 'href="/catalog?category=print">Print <span class="count">3' in html


def test_a_page_past_the_end_says_so_instead_of_nothing_matches(client, login, shelf):
    login("rep")
    html = client.get("/catalog?q=polo&page=5").get_data(as_text=True)
    assert "Nothing matches" not in html and "There is no page 5: 2 found." in html
    assert 'href="/catalog?q=polo" class="clear-search">Back to the first page' in html


def test_the_empty_result_escapes_what_was_typed(client, login, shelf):
    login("rep")
    html = client.get("/catalog?q=<script>x</script>").get_data(as_text=True)
    assert "<script>x" not in html and "&lt;script&gt;x" in html


def _token(session, make_user):
    _row, token = auth.create_token(db.session, make_user("rep"), "tests")
    return {"Authorization": f"Bearer {token}"}


def test_the_api_q_searches_as_the_catalog_page_does(client, session, make_user, shelf):
    headers = _token(session, make_user)
    found = client.get("/api/v1/items?q=navy+polos", headers=headers).get_json()
    assert sorted(item["sku"] for item in found["items"]) == ["POLO-NAVY-L", "POLO-NAVY-M", "POLO-NAVY-S"]
    found = client.get("/api/v1/items?q=POLO-NAVY-M", headers=headers).get_json()
    assert found["items"][0]["sku"] == "POLO-NAVY-M"
    found = client.get("/api/v1/items?q=flyer", headers=headers).get_json()
    assert [item["sku"] for item in found["items"]] == ["FLY-ATLAS"]
    assert client.get("/api/v1/items?q=100%25", headers=headers).get_json()["items"][0]["sku"] == "TEE-100"
    assert client.get("/api/v1/items?q=_", headers=headers).get_json()["items"] == []


def test_code_box_suggestions_use_the_same_search(session, shelf):
    assert catalog_queries.suggest_items(session, "navy-m")[0].sku == "POLO-NAVY-M"
    assert [item.sku for item in catalog_queries.suggest_items(session, "brochures nimbus")] == ["BRO-NIMBUS-26"]
    assert catalog_queries.suggest_items(session, "  ") == []


def test_the_product_forms_take_keywords(client, login, session):
    login("manager")
    response = client.post("/catalog/new", data={"name": "Expo flyer", "category": "print", "sku": "FLY-EXPO",
                                                 "keywords": "one-pager, handout", "unit": "each"})
    assert response.status_code == 302, response.get_data(as_text=True)
    product = session.scalar(select(Product).where(Product.name == "Expo flyer"))
    assert product.keywords == "one-pager, handout" and names(session, "handouts") == ["Expo flyer"]
    assert 'value="one-pager, handout"' in client.get(f"/catalog/p/{product.id}/edit").get_data(as_text=True)
    assert "Also called</dt><dd>one-pager, handout" in client.get("/i/FLY-EXPO").get_data(as_text=True)
    response = client.post(f"/catalog/p/{product.id}/edit", data={"name": "Expo flyer", "category": "print",
                                                                  "keywords": "sell sheet"})
    assert response.status_code == 302
    assert names(session, "sell sheet") == ["Expo flyer"] and names(session, "handout") == []
    response = client.post(f"/catalog/p/{product.id}/edit", data={"name": "Expo flyer", "category": "print",
                                                                  "keywords": "x" * 501})
    assert response.status_code == 400 and 'value="' + "x" * 501 + '"' in response.get_data(as_text=True)
    assert session.get(Product, product.id).keywords == "sell sheet"


# CSV ---------------------------------------------------------------------------------------------

def test_keywords_travel_in_the_items_csv(session, shelf):
    text = exports.items_csv(session)
    header = text.splitlines()[0].split(",")
    assert header[header.index("replaced_by") + 1] == "keywords"  # the columns before it keep their places
    assert '"shirt, tee"' in text
    assert transfer.import_items(session, text, dry_run=True).counts["unchanged"] == 11  # re-imports unchanged
    rows = ["sku,product,size,category,keywords", "FLY-ATLAS,Atlas one-pager,,print,\"flyer, handout\"",
            "NEW-1,Lanyard,,promo,neck strap", "TEE-S,Tee,S,apparel,shirt", "TEE-M,Tee,M,apparel,top"]
    csv = "\n".join(rows)
    report = transfer.import_items(session, csv, dry_run=True)
    assert "keywords differ from line 4 for another size of Tee" in {b.line: b.reason for b in report.bad_rows}[5]
    csv = "\n".join(rows[:3])
    report = transfer.import_items(session, csv, dry_run=True)
    changes = {change.key: change for change in report.changes}
    assert changes["FLY-ATLAS"].details == (("keywords", "flyer, leaflet", "flyer, handout"),)
    assert names(session, "handout") == []  # a dry run writes nothing
    transfer.import_items(session, csv)
    assert names(session, "handout") == ["Atlas one-pager"] and names(session, "neck strap") == ["Lanyard"]
    assert names(session, "leaflet") == []


def test_the_demo_finds_what_the_issue_says_people_type(runner, session):
    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    assert names(session, "polo navy") == names(session, "navy polos") == ["Navy polo"]
    assert names(session, "nimbus brochure") == ["Nimbus product brochure 2026"]
    assert "Company overview brochure" in names(session, "brochures")
    assert names(session, "pens") == ["Logo ballpoint pen"]
    # The one with "flyer" in its name first, then those the catalog calls flyers too.
    assert names(session, "flyer") == ["Webinar series flyer", "Atlas one-pager", "Nimbus one-pager"]
    assert names(session, "POLO-NAVY-M")[0] == "Navy polo"


def test_upgrading_to_0018_gives_the_products_there_their_search_words(tmp_path):
    import flask_migrate
    import sqlalchemy as sa

    from inventory import MIGRATIONS
    from tests.conftest import make_test_app

    app = make_test_app("sqlite:///" + str(tmp_path / "migrate.sqlite3"), tmp_path / "instance")
    with app.app_context():
        flask_migrate.upgrade(directory=MIGRATIONS, revision="0017")
        with db.engine.begin() as connection:
            connection.execute(sa.text("INSERT INTO product (id, name, category, description, archived, created_at) "
                                       "VALUES (1, 'Navy polos', 'apparel', 'Brodé', 0, '2026-01-01')"))
            connection.execute(sa.text(
                "INSERT INTO item (sku, product_id, size, size_rank, unit, supplier, unit_cost, lead_time_days,"
                " reorder_point, reorder_quantity, returnable, notes, archived, created_at) VALUES"
                " ('POLO-NAVY-M', 1, 'M', 4, 'each', 'Threadline', 0, 0, 0, 0, 0, '', 0, '2026-01-01')"))
        flask_migrate.upgrade(directory=MIGRATIONS)
        assert db.session.get(Product, 1).search_words == " navy polo ~ polonavym m threadline apparel brode"
        assert names(db.session, "brodé polo") == ["Navy polos"]
        db.session.remove()
        flask_migrate.downgrade(directory=MIGRATIONS, revision="0017")
        assert "search_words" not in {c["name"] for c in sa.inspect(db.engine).get_columns("product")}
        db.session.remove()
        db.engine.dispose()
