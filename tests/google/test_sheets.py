"""Sheets: a 50-row sheet is checked (bad rows marked), sent as one dispatch, statuses written back."""
import pytest

from tests.generation.conftest import upload_template, word_template
from tests.google.conftest import texts, validate_response
from tests.post.conftest import post_simulator  # noqa: F401

SPREADSHEET_ID = "1SpReAdShEeT0123456789abcdefghijklmnopqrstu"
KNOWN = "120385-1100"  # Mette Fiktivsen, in the fictional register and on Digital Post


def _cprs(n: int) -> list[str]:
    """n made-up CPR numbers with real dates (born 1990)."""
    return [f"{1 + i % 28:02d}{1 + i // 28:02d}90-{4001 + i:04d}" for i in range(n)]


@pytest.fixture
def app_overrides(app_overrides, post_simulator):  # noqa: F811
    return {**app_overrides, "post_api_url": post_simulator.api_url}


@pytest.fixture
def merge_template(admin):
    response = upload_template(admin, "Flettebrev", word_template("Kære {{ Navn }}", "Dit beløb: {{ Beløb }} kr."),
                               for_merge="true")
    assert response.status_code == 201, response.json
    return response.json


@pytest.fixture
def sender(admin):
    return admin.post("/api/post/sender-identities", json={"name": "Testrup Skole", "cvr": "39990059"}).json


@pytest.fixture
def sheet(google):
    rows = [["Elevliste efterår"], [], ["CPR", "Navn", "Beløb"]]
    rows += [[cpr, f"Modtager {i + 1}", str(100 + i)] for i, cpr in enumerate([KNOWN] + _cprs(49))]
    rows[10][0] = "123"  # sheet row 11: not a CPR number
    rows[30][0] = "310290-1234"  # sheet row 31: 31 February
    google.sheets[SPREADSHEET_ID] = {"Ark1": rows, "Noter": [["intet"]]}
    return rows


def _event(addon, endpoint, **kw):
    return addon.event(endpoint, host="SHEETS", sheets={"id": SPREADSHEET_ID, "title": "Elevliste",
                                                        "addonHasFileScopePermission": True}, **kw)


def _pushed(body):
    navigation = body["renderActions"]["action"]["navigations"][0]
    return navigation.get("pushCard") or navigation.get("updateCard")


def _button_params(card, label):
    (button,) = [b for s in card["sections"] for w in s["widgets"] for b in w.get("buttonList", {}).get("buttons", [])
                 if b["text"] == label]
    return {p["key"]: p["value"] for p in button["onClick"]["action"]["parameters"]}


def _marked_rows(google):
    return sorted(row for (sid, _tab, row, column), colour in google.colours.items()
                  if sid == SPREADSHEET_ID and column == 3 and colour != {"red": 1, "green": 1, "blue": 1})


def _status_column(google):
    return [row[3] if len(row) > 3 else None for row in google.sheets[SPREADSHEET_ID]["Ark1"]]


def test_a_50_row_sheet_is_checked_sent_and_its_statuses_written_back(
        addon, linked, merge_template, sender, sheet, google, post_simulator):  # noqa: F811
    opened = addon.post("sheets", _event(addon, "sheets"))
    validate_response(opened.json)
    assert "Flettebrev" in texts(opened.json) and "CPR, Navn, Beløb" in texts(opened.json)
    form = {"sheet": "Ark1", "template_id": merge_template["id"], "id_column": "CPR"}

    checked = addon.post("sheets-check", _event(addon, "sheets-check", form=form))
    validate_response(checked.json)
    assert checked.json["renderActions"]["action"]["notification"]["text"].startswith("2 fejl")
    status = _status_column(google)
    assert status[2] == "Status" and status[10].startswith("fejl: ") and status[30].startswith("fejl: ")
    assert status[3] == "ok"  # nothing is made while a row is bad
    assert "Række 11" in texts(checked.json) and "Række 31" in texts(checked.json)
    assert "123" not in status[10]  # the problem never repeats the number
    assert _marked_rows(google) == [10, 30]  # 0-based: sheet rows 11 and 31

    sheet[10][0], sheet[30][0] = "010190-4999", "020190-4998"  # the caseworker corrects the two rows
    checked = addon.post("sheets-check", _event(addon, "sheets-check", form=form))
    validate_response(checked.json)
    assert checked.json["renderActions"]["action"]["notification"]["text"] == "Alle rækker er i orden."
    params = _button_params(_pushed(checked.json), "Send")
    preview = [b for s in _pushed(checked.json)["sections"] for w in s["widgets"]
               for b in w.get("buttonList", {}).get("buttons", []) if b["text"] == "Se brevet til række 4"]
    url = preview[0]["onClick"]["openLink"]["url"]
    assert url == f"https://sagspost.example.dk/api/merges/{params['merge_id']}/rows/4/preview"
    assert linked.get(url.removeprefix("https://sagspost.example.dk")).data.startswith(b"%PDF")
    assert set(_status_column(google)[3:53]) == {"klargøres"}  # the letters are made after the check
    assert _marked_rows(google) == []

    send_form = {"title": "Besked om beløb", "sender_identity_id": sender["id"]}
    sent = addon.post("sheets-dispatch", _event(addon, "sheets-dispatch", form=send_form, params=params))
    assert sent.status_code == 200, sent.json
    validate_response(sent.json)
    assert "sendt afsted" in sent.json["renderActions"]["action"]["notification"]["text"]
    assert _status_column(google)[3:53] == ["i kø"] * 50  # the workers send after the answer
    refresh_params = _button_params(_pushed(sent.json), "Opdatér status i arket")

    def refresh():
        response = addon.post("sheets-status", _event(addon, "sheets-status", params=refresh_params))
        validate_response(response.json)
        return _status_column(google)[3:53]

    status = refresh()
    assert set(status) <= {"sendt", "til print"} and status[0] == "sendt"
    assert post_simulator.deliveries()["total"] == status.count("sendt") > 0
    linked.post("/api/post/poll")
    status = refresh()
    assert status[0] == "leveret" and set(status) <= {"leveret", "til print"}
    # the rest of the sheet is untouched
    assert google.sheets[SPREADSHEET_ID]["Ark1"][0] == ["Elevliste efterår"]
    assert [r[:3] for r in google.sheets[SPREADSHEET_ID]["Ark1"][3:5]] == [r[:3] for r in sheet[3:5]]


def test_sending_before_checking_is_refused(addon, linked, sender, sheet):
    sent = addon.post("sheets-dispatch", _event(addon, "sheets-dispatch", form={"sender_identity_id": sender["id"]}))
    validate_response(sent.json)
    assert sent.json["renderActions"]["action"]["notification"]["text"] == "Kontrollér rækkerne først."
