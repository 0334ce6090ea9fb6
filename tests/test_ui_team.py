"""Settings > Team in the window, with the mouse, on a real PostgreSQL server: create a team,
invite, join from another desktop, approve after comparing the fingerprint, remove; and what a
finance member's window looks like."""

from __future__ import annotations

import pytest
from conftest import wait_signal, wait_until
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox
from test_team import add_member, init_lea

from walleo_desktop.engine import team
from walleo_desktop.engine.profiles import TEAM_PROFILE, Profiles
from walleo_desktop.simulator import Simulator, SimulatorConfig, serve_in_thread
from walleo_desktop.ui.team_dialog import TeamDialog

pytestmark = pytest.mark.timeout(120)


def click(qtbot, button):
    assert button.isVisible() and button.isEnabled(), button.text()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


async def step(dialog, qtbot, button) -> str:
    waiter = wait_signal(dialog.finished_step, timeout=30)
    click(qtbot, button)
    (text,) = await waiter
    return text


def select_member(dialog, qtbot, name: str) -> None:
    table = dialog.members
    for row in range(table.rowCount()):
        if table.item(row, 0).text() == name:
            rect = table.visualItemRect(table.item(row, 0))
            qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
            return
    raise AssertionError(f"{name} is not listed")


def state_of(dialog, name: str) -> str | None:
    table = dialog.members
    for row in range(table.rowCount()):
        item, state = table.item(row, 0), table.item(row, 2)
        if item is not None and item.text() == name and state is not None:
            return state.text()
    return None


def answer(box: QMessageBox, qtbot, text: str) -> None:
    button = next(b for b in box.buttons() if b.text() == text)
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


async def test_create_invite_join_approve_remove_with_the_mouse(qtbot, team_db, tmp_path):
    lea_profiles = Profiles(tmp_path / "lea")
    lea = TeamDialog(lea_profiles)
    qtbot.addWidget(lea)
    lea.show()
    assert lea.pages.currentIndex() == 0  # not in a team: join or create

    # A create without the essentials says what is missing and sends nothing.
    click(qtbot, lea.create_button)
    assert "database" in lea.message_label.text()
    url = team_db.url.replace(f":{team_db.server.password}@", "@")
    qtbot.keyClicks(lea.url_edit, url)
    qtbot.keyClicks(lea.superuser_password_edit, team_db.server.password)
    qtbot.keyClicks(lea.admin_name_edit, "lea")
    click(qtbot, lea.simulator_check)
    assert not lea.api_key_edit.isEnabled()
    text = await step(lea, qtbot, lea.create_button)
    assert "you (lea) are its admin" in text
    assert lea_profiles.active == TEAM_PROFILE
    assert lea.superuser_password_edit.text() == ""  # not kept in the dialog either
    await wait_until(lambda: lea.members.rowCount() == 1)
    assert lea.pages.currentIndex() == 1 and lea.invite_box.isVisible()

    qtbot.keyClicks(lea.invite_name_edit, "sam")
    text = await step(lea, qtbot, lea.invite_button)
    code = lea.invite_code.toPlainText()
    assert code.startswith(team.INVITE_PREFIX) and "sam" in text
    await wait_until(lambda: lea.members.rowCount() == 2)

    # Sam's desktop: a bad paste first, then the code.
    sam_profiles = Profiles(tmp_path / "sam")
    sam = TeamDialog(sam_profiles)
    qtbot.addWidget(sam)
    sam.show()
    qtbot.keyClicks(sam.code_edit, "walleo-invite:broken")
    text = await step(sam, qtbot, sam.join_button)
    assert "not a Walleo Desktop invite code" in text
    sam.code_edit.setPlainText(code)
    text = await step(sam, qtbot, sam.join_button)
    fingerprint = text.split("fingerprint is ")[1].split(":")[0]
    assert sam.pages.currentIndex() == 1
    assert not sam.approve_button.isVisible()  # an agent manages no one

    click(qtbot, lea.refresh_button)
    await wait_until(
        lambda: (
            "to approve" in lea.message_label.text().lower() or "sam" in lea.message_label.text()
        )
    )
    select_member(lea, qtbot, "sam")
    assert lea.members.item(lea.members.currentRow(), 2).text() == "joined: to approve"
    click(qtbot, lea.approve_button)
    box = lea.approve_question
    assert fingerprint in box.text()
    waiter = wait_signal(lea.finished_step, timeout=30)
    answer(box, qtbot, "They match: approve")
    (text,) = await waiter
    assert "sam is approved" in text
    await wait_until(lambda: not lea._busy and state_of(lea, "sam") == "active")
    assert "sam is approved" in lea.message_label.text()  # the refresh keeps it said
    access = team.open_team(team.load_team_config(sam_profiles.config_dir))
    access.backend.close()

    await wait_until(lambda: not lea._busy)
    select_member(lea, qtbot, "sam")
    click(qtbot, lea.remove_button)
    waiter = wait_signal(lea.finished_step, timeout=30)
    answer(lea.remove_question, qtbot, "Remove")
    (text,) = await waiter
    assert "sam is removed" in text and "k2" in text
    with pytest.raises(team.TeamError):
        team.open_team(team.load_team_config(sam_profiles.config_dir))


async def test_a_finance_window_reviews_and_issues_nothing(qtbot, team_db, tmp_path):
    from walleo_desktop.engine.profiles import Connection
    from walleo_desktop.engine.session import Session
    from walleo_desktop.ui.main_window import MainWindow

    sim = Simulator(SimulatorConfig(delay_scale=0.02, seed=1, async_error_rate=0.0))
    with serve_in_thread(sim) as server:
        lea = init_lea(team_db.url, server.base_url, tmp_path)
        fin = add_member(lea, "fin", "finance", tmp_path)
        connection = Connection(
            profile=f"team:{fin.team_id}", base_url="", credentials=None, source="team", team=fin
        )
        session = await Session.open(connection, tmp_path / "fin-data")
        window = MainWindow(session, profiles=Profiles(tmp_path / "fin"))
        qtbot.addWidget(window)
        try:
            window.show()
            await window.start()
            assert not window.form.isVisible()
            assert window.tabs.currentIndex() == 1 and window.history is not None
            assert not window.new_pull_action.isEnabled()
            assert "no card is issued here" in window.status.connection.text()
            assert "fin" in window.windowTitle()
            # The database goes away: said in a banner, which goes when it is back.
            session.engine._set_problem("The team database db:5432/walleo cannot be reached.")
            assert window.health_banner.isVisible()
            assert "none is sent" in window.health_banner.text()
            session.engine._set_problem(None)
            assert not window.health_banner.isVisible()
        finally:
            await window.shutdown()
            await session.close()


async def test_an_agents_live_table_is_theirs_the_history_is_the_teams(qtbot, team_db, tmp_path):
    from walleo_desktop.engine.profiles import Connection
    from walleo_desktop.engine.session import Session
    from walleo_desktop.ui.main_window import MainWindow

    sim = Simulator(SimulatorConfig(delay_scale=0.02, seed=2, async_error_rate=0.0))
    with serve_in_thread(sim) as server:
        lea = init_lea(team_db.url, server.base_url, tmp_path)
        configs = {name: add_member(lea, name, "agent", tmp_path) for name in ("sam", "kim")}

        async def open_session(name: str) -> Session:
            config = configs[name]
            connection = Connection(
                profile=f"team:{config.team_id}", base_url="", credentials=None,
                source="team", team=config,
            )  # fmt: skip
            session = await Session.open(connection, tmp_path / f"{name}-data")
            await session.catalog.refresh()
            return session

        sam, kim = await open_session("sam"), await open_session("kim")
        window = MainWindow(sam, profiles=Profiles(tmp_path / "sam"))
        qtbot.addWidget(window)
        try:
            window.show()
            await window.start()
            await kim.engine.start()
            (theirs,) = await kim.engine.submit(kim.catalog.find("CARREFOUR"), 10, reference="K")
            (mine,) = await sam.engine.submit(sam.catalog.find("CARREFOUR"), 20, reference="S")
            await kim.engine.wait([theirs.id])
            await sam.engine.wait([mine.id])
            history = window.show_history()
            await wait_until(lambda: history.model.rowCount() == 2, timeout=15)
            await wait_until(lambda: window.model.shows(mine.id), timeout=5)
            window.model.flush()
            assert window.model.rowCount() == 1 and not window.model.shows(theirs.id)
        finally:
            await window.shutdown()
            await sam.close()
            await kim.close()
