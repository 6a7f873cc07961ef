from tests.factories import make_fair, make_organiser


def test_home_page_lists_a_published_fair(client):
    fair = make_fair(title="Ice & snow fair")
    response = client.get("/")
    assert response.status_code == 200
    assert f"/fairs/{fair.id}" in response.text


def test_draft_fair_is_hidden_from_the_public_api(client):
    make_fair(title="Draft only", publish=False)
    assert client.get("/api/v1/fairs").get_json()["total"] == 0


def test_organiser_sees_drafts(client, auth):
    organiser = make_organiser()
    make_fair(organiser, publish=False)
    assert client.get("/api/v1/fairs", headers=auth(organiser)).get_json()["total"] == 1
