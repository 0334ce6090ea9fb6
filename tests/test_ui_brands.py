"""Recent and favourite brands at the top of the pull form's picker, and the last amount per
brand offered as a suggestion that typing replaces (offscreen, real engine and simulator)."""

from __future__ import annotations

from conftest import confirm, wait_until
from PySide6.QtCore import QSettings
from shiboken6 import isValid
from test_ui_bulk import window  # noqa: F401 (the fixture)

from walleo_desktop.ui.main_window import MainWindow


def pick(form, code: str) -> None:
    form.brand.setCurrentIndex(form.brand.findData(code))


async def test_recent_brand_first_and_its_last_amount_suggested(window, qtbot):  # noqa: F811
    form = window.form
    first_before = form.brand.itemData(0)
    assert first_before != "SEPHORA"  # alphabetical: Boulanger, Carrefour…
    pick(form, "SEPHORA")
    form.amount_choice.setCurrentIndex(form.amount_choice.findData(100))
    form.reference.setText("R-1")
    assert form.request_confirmation()
    await confirm(form)
    assert form.brand.itemData(0) == "SEPHORA"  # the recent brand leads the list, once
    assert [form.brand.itemData(i) for i in range(form.brand.count())].count("SEPHORA") == 1
    pick(form, "FNAC")
    assert form.amount_value() is None or not form.amount_suggestion.isVisible()
    form.amount_spin.clear()
    pick(form, "SEPHORA")
    assert form.amount_value() == 100 and form.amount_suggestion.isVisible()
    assert "suggestion" in form.amount_suggestion.text()
    form._choice_line.setText("50")  # typing replaces it, and it is no longer a suggestion
    assert form.amount_value() == 50 and not form.amount_suggestion.isVisible()
    # The same brand again (a call centre's usual): the picker is not rebuilt for it.
    rebuilt: list[int] = []
    original = form.set_catalog
    form.set_catalog = lambda cards: (rebuilt.append(1), original(cards))[-1]
    form.reference.setText("R-2")
    assert form.request_confirmation()
    await confirm(form)
    assert rebuilt == [] and form.brand.itemData(0) == "SEPHORA"
    form.set_catalog = original
    # this desktop remembers them, in its window settings
    settings: QSettings = window._settings
    assert "SEPHORA" in str(settings.value("brands/demo/recent"))


async def test_a_starred_brand_leads_the_list_and_is_kept_in_the_history(
    window,  # noqa: F811
    qtbot,
):
    form = window.form
    pick(form, "ZALANDO")
    assert form.star.isEnabled() and not form.star.isChecked()
    form.star.click()
    assert form.star.text() == "★" and form.brand.itemData(0) == "ZALANDO"
    assert form.gift_card().code == "ZALANDO"  # the selection survives the reordering
    store = window._session.store
    await wait_until(lambda: not window.ops.busy_any())
    assert await store.get_setting("favourite_brands:demo") == ["ZALANDO"]
    # the next window of this profile reads it back
    other = MainWindow(window._session, settings=window._settings, recent=[])
    qtbot.addWidget(other)
    await wait_until(lambda: other.form.brand.count() > 0 or other.form._favourites)
    other.form.set_catalog(window._session.catalog.cached())
    await wait_until(lambda: other.form.favourites == ["ZALANDO"])
    assert other.form.brand.itemData(0) == "ZALANDO"
    if isValid(other):
        other.close()
    await other.shutdown()
    # typing still searches every brand
    form.brand.setFocus()
    form.brand.setEditText("fna")
    form._on_brand_edited()
    assert form.gift_card().code == "FNAC"
