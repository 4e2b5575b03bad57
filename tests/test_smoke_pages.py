"""Every main page renders for the roles that use it."""


def test_pages_render_for_each_role(client, login, make_product, make_item):
    product = make_product(sizes={"S": 2, "M": 5})
    make_item("BRO-1", name="Brochure", category="print", on_hand=100, bin="B-01")
    for role in ("rep", "staff", "manager", "admin"):
        login(role)
        for url in ["/catalog", "/catalog?category=apparel&q=navy", f"/catalog/p/{product.id}", "/i/POLO-NAVY-M",
                    "/i/BRO-1", "/b/A-01", "/bins", "/find", "/profile"]:
            response = client.get(url)
            assert response.status_code == 200, (role, url, response.status_code)
        client.post("/logout")
