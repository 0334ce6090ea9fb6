"""The pull form: brand, amount, quantity, reference, note; a confirmation; then the engine.

Built for the keyboard: Ctrl+N focuses the brand, typing filters it (matching anywhere in the
name), Tab goes brand → amount → quantity → reference → note → Issue, every label has a
mnemonic, Enter anywhere asks for confirmation and Enter again confirms (Escape cancels).

Safety: amount and quantity are text fields that keep what was typed (``NumberEdit``, and an
editable list for brands with fixed amounts): nothing is clamped, rounded or put back behind the
agent's back. An amount the brand does not accept (below its minimum, above its maximum, off
its step, not one of its amounts) or a quantity out of range is refused with the reason shown
next to the field, in the window's language, and nothing is journaled; the confirmation shows
brand, amount × quantity and total, and the form is frozen while it is shown, so what is
confirmed is exactly what was typed, and is submitted once.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from PySide6.QtCore import QDateTime, QEvent, QLocale, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QFont, QIcon, QKeyEvent, QPixmap
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QCompleter,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QSizePolicy,
    QStackedWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from walleo_desktop.api.models import GiftCard, Inventory
from walleo_desktop.engine import CatalogService, PullEngine
from walleo_desktop.store import DuplicateIntentError, StoreError
from walleo_desktop.store.records import PullRecord
from walleo_desktop.ui.async_ops import AsyncOps
from walleo_desktop.ui.number_edit import NumberEdit, parse_whole_number
from walleo_desktop.ui.pull_table_model import currency_symbol, format_amount

__all__ = ["MAX_AMOUNT", "MAX_QUANTITY", "Order", "PullForm"]

log = logging.getLogger("walleo.ui.form")

MAX_QUANTITY = 100
# The largest amount the form sends when the brand sets no maximum of its own: far above any
# gift card, far below what the journal's integers hold.
MAX_AMOUNT = 1_000_000
INVENTORY_TTL = 30.0  # seconds a fetched inventory is reused for hints
INVENTORY_DEBOUNCE_MS = 300
_MUTED = "color:palette(placeholder-text);"
_ERROR = "color:#d93025;"
_WARN = "color:#b06000;"


@dataclass(frozen=True, slots=True)
class Order:
    """What the agent asked for, frozen when the confirmation is shown."""

    gift_card: GiftCard
    amount: int
    count: int
    reference: str
    note: str


class PullForm(QWidget):
    """Signals:
    submitted(list): the ``PullRecord``s just journaled by the engine (already being sent).
    """

    submitted = Signal(list)
    favourites_changed = Signal(list)  # the favourite brands' codes, after a star toggle

    def __init__(
        self,
        catalog: CatalogService,
        engine: PullEngine,
        currency: str,
        ops: AsyncOps,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("pullForm")
        self._catalog = catalog
        self._engine = engine
        self._currency = currency
        self._ops = ops
        self._cards: dict[str, GiftCard] = {}
        self._inventories: dict[str, tuple[float, Inventory]] = {}
        self._inventory_errors: dict[str, str] = {}
        self._order: Order | None = None
        self.duplicate_question: QMessageBox | None = None  # open while it asks
        self._focus_before_confirm: QWidget | None = None
        self._stopped = False
        # Brand preferences (``set_brand_preferences``): favourites and recent brands first in
        # the picker, and the last amount issued per brand offered as a suggestion.
        self._favourites: list[str] = []
        self._recents: list[str] = []
        self._last_amounts: dict[str, int] = {}
        self._suggested: str | None = None  # the amount text put there as a suggestion
        self._build()

    # ------------------------------------------------------------------ construction

    def _build(self) -> None:
        title = QLabel(self.tr("New pull"), self)
        font = QFont(title.font())
        font.setPointSizeF(font.pointSizeF() * 1.25)
        font.setBold(True)
        title.setFont(font)

        self.brand = QComboBox(self)
        self.brand.setObjectName("brand")
        self.brand.setEditable(True)
        self.brand.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.brand.setMaxVisibleItems(15)
        self.brand.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.brand.setMinimumContentsLength(12)
        line = self.brand.lineEdit()
        assert line is not None  # an editable combo box always has one
        self._brand_line = line
        completer = QCompleter(self.brand.model(), self.brand)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setCompletionMode(QCompleter.CompletionMode.PopupCompletion)
        self.brand.setCompleter(completer)
        self._completer = completer
        line.setPlaceholderText(self.tr("Loading the catalog…"))
        line.setClearButtonEnabled(True)
        self.brand_hint = self._small_label("brandHint")
        self.star = QToolButton(self)  # small: the brand field keeps its width
        self.star.setText("☆")
        self.star.setObjectName("favouriteStar")
        self.star.setCheckable(True)
        self.star.setAutoRaise(True)
        self.star.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # Tab order stays brand → amount
        self.star.setAccessibleName(self.tr("Favourite brand"))
        self.star.setToolTip(self.tr("Keep this brand at the top of the list"))
        self.star.setEnabled(False)
        self.star.toggled.connect(self._on_star)
        self.amount_suggestion = self._small_label("amountSuggestion")

        # Fixed amounts: a list that can also be typed into ("50" Enter). No completer: an
        # inline completion would turn a typed "2" into "25 €".
        self.amount_choice = QComboBox(self)
        self.amount_choice.setObjectName("amountChoice")
        self.amount_choice.setEditable(True)
        self.amount_choice.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.amount_choice.setCompleter(None)
        choice_line = self.amount_choice.lineEdit()
        assert choice_line is not None
        self._choice_line = choice_line
        choice_line.setPlaceholderText(self.tr("Choose or type an amount"))
        # Free amounts: typed, kept as typed ("amount_spin": Up/Down still step through it).
        self.amount_spin = NumberEdit(self)
        self.amount_spin.setObjectName("amountSpin")
        self.amount_spin.setRange(1, MAX_AMOUNT)
        self.amount_spin.setSuffix(currency_symbol(self._currency), ignored=self._symbols())
        self.amount_spin.setPlaceholderText(self.tr("Amount"))
        self.amount = QStackedWidget(self)
        self.amount.setObjectName("amount")
        self.amount.addWidget(self.amount_choice)
        self.amount.addWidget(self.amount_spin)
        self.amount.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.amount_error = self._small_label("amountError", _ERROR)
        self.stock = self._small_label("stockHint")

        self.quantity = NumberEdit(self)
        self.quantity.setObjectName("quantity")
        self.quantity.setRange(1, MAX_QUANTITY)
        self.quantity.setValue(1)
        self.quantity_error = self._small_label("quantityError", _ERROR)
        self.reference = QLineEdit(self)
        self.reference.setObjectName("reference")
        self.reference.setPlaceholderText(self.tr("Customer or ticket"))
        self.reference.setMaxLength(200)
        self.note = QLineEdit(self)
        self.note.setObjectName("note")
        self.note.setPlaceholderText(self.tr("Optional"))
        self.note.setMaxLength(500)

        self.total = QLabel(self)
        self.total.setObjectName("total")
        self.form_error = self._small_label("formError", _ERROR)
        self.issue_button = QPushButton(self.tr("&Issue…"), self)
        self.issue_button.setObjectName("issueButton")
        self.issue_button.setToolTip(self.tr("Review, then confirm with Enter"))
        self.keyboard_hint = self._small_label("keyboardHint")
        self.keyboard_hint.setText(
            self.tr("Enter reviews the pull; Enter again issues it. Escape cancels.")
        )
        self.keyboard_hint.show()

        self.fields = QWidget(self)
        form = QFormLayout(self.fields)
        form.setContentsMargins(0, 0, 0, 0)
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapAllRows)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.setVerticalSpacing(4)
        self.brand_label = QLabel(self.tr("&Brand"), self)
        self.brand_label.setBuddy(self.brand)
        # The amount's buddy follows the page shown (a stacked widget cannot take focus).
        self.amount_label = QLabel(self.tr("&Amount"), self)
        # The star sits on the label's line: the brand field keeps its whole width.
        brand_title = QWidget(self)
        title_layout = QHBoxLayout(brand_title)
        title_layout.setContentsMargins(0, 0, 0, 0)
        title_layout.addWidget(self.brand_label)
        title_layout.addWidget(self.star)
        title_layout.addStretch(1)
        form.addRow(brand_title, self._stacked(self.brand, self.brand_hint))
        form.addRow(
            self.amount_label,
            self._stacked(self.amount, self.amount_suggestion, self.amount_error, self.stock),
        )
        self.quantity_label = QLabel(self.tr("&Quantity"), self)
        self.quantity_label.setBuddy(self.quantity)
        form.addRow(self.quantity_label, self._stacked(self.quantity, self.quantity_error))
        form.addRow(self.tr("&Reference"), self.reference)
        form.addRow(self.tr("&Note"), self.note)

        self.confirm_panel = QFrame(self)
        self.confirm_panel.setObjectName("confirmPanel")
        self.confirm_panel.setFrameShape(QFrame.Shape.StyledPanel)
        self.confirm_panel.setStyleSheet(
            "#confirmPanel{background:#e8f0fe;border:1px solid #1a73e8;border-radius:4px;}"
            # the panel's own light background: its text must stay dark in a dark palette
            "#confirmPanel QLabel{color:#202124;}"
        )
        self.confirm_text = QLabel(self.confirm_panel)
        self.confirm_text.setObjectName("confirmText")
        self.confirm_text.setWordWrap(True)
        self.confirm_text.setTextFormat(Qt.TextFormat.PlainText)
        self.confirm_button = QPushButton(self.tr("Yes, issue"), self.confirm_panel)
        self.confirm_button.setObjectName("confirmButton")
        self.confirm_button.setToolTip(self.tr("Enter"))
        self.cancel_button = QPushButton(self.tr("Cancel"), self.confirm_panel)
        self.cancel_button.setObjectName("cancelButton")
        self.cancel_button.setToolTip(self.tr("Escape"))
        # Enter activates the focused button (as in a dialog): Enter on Cancel cancels.
        self.confirm_button.setAutoDefault(True)
        self.confirm_button.setDefault(True)
        self.cancel_button.setAutoDefault(True)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.confirm_button)
        panel_layout = QVBoxLayout(self.confirm_panel)
        panel_layout.addWidget(self.confirm_text)
        panel_layout.addLayout(buttons)
        self.confirm_panel.hide()

        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 12, 12, 12)
        layout.setSpacing(10)
        layout.addWidget(title)
        layout.addWidget(self.fields)
        layout.addWidget(self.total)
        layout.addWidget(self.form_error)
        layout.addWidget(self.issue_button)
        layout.addWidget(self.confirm_panel)
        layout.addWidget(self.keyboard_hint)
        layout.addStretch(1)

        QWidget.setTabOrder(self.brand, self.amount_choice)
        QWidget.setTabOrder(self.amount_choice, self.amount_spin)
        QWidget.setTabOrder(self.amount_spin, self.quantity)
        QWidget.setTabOrder(self.quantity, self.reference)
        QWidget.setTabOrder(self.reference, self.note)
        QWidget.setTabOrder(self.note, self.issue_button)
        QWidget.setTabOrder(self.issue_button, self.cancel_button)
        QWidget.setTabOrder(self.cancel_button, self.confirm_button)

        self._inventory_timer = QTimer(self)
        self._inventory_timer.setObjectName("inventory-debounce")
        self._inventory_timer.setSingleShot(True)
        self._inventory_timer.setInterval(INVENTORY_DEBOUNCE_MS)
        self._inventory_timer.timeout.connect(self._fetch_inventory)

        self.brand.currentIndexChanged.connect(self._on_brand_changed)
        self._brand_line.editingFinished.connect(self._on_brand_edited)
        completer.activated[str].connect(self._on_completion)  # type: ignore[index]
        self.amount_choice.currentIndexChanged.connect(self._on_amount_changed)
        choice_line.textChanged.connect(self._on_amount_changed)
        self.amount_spin.value_changed.connect(self._on_amount_changed)
        self.quantity.value_changed.connect(self._on_quantity_changed)
        self.issue_button.clicked.connect(self.request_confirmation)
        self.confirm_button.clicked.connect(self.confirm)
        self.cancel_button.clicked.connect(self.cancel_confirmation)
        self.brand.installEventFilter(self)
        self.amount_choice.installEventFilter(self)
        choice_line.installEventFilter(self)
        app = QApplication.instance()
        if isinstance(app, QApplication):
            app.focusChanged.connect(self._on_focus_changed)
        self._brand_line.installEventFilter(self)
        self._show_amount_widget(None)
        self._update_total()

    def _small_label(self, name: str, style: str = _MUTED) -> QLabel:
        label = QLabel(self)
        label.setObjectName(name)
        label.setWordWrap(True)
        label.setStyleSheet(style)
        label.setTextFormat(Qt.TextFormat.PlainText)
        label.hide()
        return label

    def _stacked(self, *widgets: QWidget) -> QWidget:
        box = QWidget(self)
        layout = QVBoxLayout(box)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        for w in widgets:
            layout.addWidget(w)
        return box

    # ------------------------------------------------------------------ catalog

    def set_catalog(self, cards: list[GiftCard]) -> None:
        """Fill the brand list; the selection (and any text being typed) survives a refresh."""
        selected = self.gift_card()
        line = self._brand_line
        typed, cursor, typing = line.text(), line.cursorPosition(), self.brand.hasFocus()
        self._cards = {g.code: g for g in cards}
        self.brand.blockSignals(True)
        try:
            self.brand.clear()
            for g in self._ordered(cards):
                self.brand.addItem(g.name, g.code)
                self.brand.setItemData(
                    self.brand.count() - 1, self._describe_amounts(g), Qt.ItemDataRole.ToolTipRole
                )
            index = self.brand.findData(selected.code) if selected else -1
            self.brand.setCurrentIndex(index)
            if typing and (selected is None or typed != selected.name):
                line.setText(typed)
                line.setCursorPosition(cursor)
        finally:
            self.brand.blockSignals(False)
        line.setPlaceholderText(
            self.tr("Type to search %n brand(s)", "", len(cards))
            if cards
            else self.tr("No gift cards available yet")
        )
        if self.gift_card() != selected:  # another brand, or its amounts changed
            self._on_brand_changed()
        self._load_logos(cards)

    def _ordered(self, cards: list[GiftCard]) -> list[GiftCard]:
        """Favourites (by name), then recent brands (newest first), then the others: each
        brand once, so type-to-search and the keyboard behave as before."""
        by_code = {g.code: g for g in cards}
        top = [
            by_code[c] for c in sorted(self._favourites, key=lambda c: c.casefold()) if c in by_code
        ]
        top += [by_code[c] for c in self._recents if c in by_code and by_code[c] not in top]
        return top + [g for g in cards if g not in top]

    def set_brand_preferences(
        self, favourites: list[str], recents: list[str], last_amounts: dict[str, int]
    ) -> None:
        """Favourite and recent brands' codes and the last amount per brand code; the picker
        is reordered (the selection and any text being typed survive)."""
        favourites, recents = list(dict.fromkeys(favourites)), list(dict.fromkeys(recents))
        reordered = (favourites, recents) != (self._favourites, self._recents)
        self._favourites, self._recents = favourites, recents
        self._last_amounts = dict(last_amounts)
        # Rebuilt (every item, every logo) only when the order moved: the same brand again,
        # the call centre's usual, changes nothing in the picker.
        if self._cards and reordered:
            self.set_catalog(sorted(self._cards.values(), key=lambda g: g.name.casefold()))
        self._show_star()

    @property
    def favourites(self) -> list[str]:
        return list(self._favourites)

    def _on_star(self, checked: bool) -> None:
        card = self.gift_card()
        if card is None:
            return
        favourites = [c for c in self._favourites if c != card.code]
        if checked:
            favourites.append(card.code)
        if favourites == self._favourites:
            return
        self.set_brand_preferences(favourites, self._recents, self._last_amounts)  # reorders
        self.favourites_changed.emit(list(self._favourites))

    def _show_star(self) -> None:
        card = self.gift_card()
        on = card is not None and card.code in self._favourites
        self.star.blockSignals(True)
        self.star.setEnabled(card is not None)
        self.star.setChecked(on)
        self.star.setText("★" if on else "☆")
        self.star.blockSignals(False)

    def _suggest_amount(self, card: GiftCard | None) -> None:
        """Put the last amount issued for ``card`` in an empty amount field, as a suggestion:
        said under the field, selected so that typing replaces it, validated as any amount."""
        self._suggested = None
        self.amount_suggestion.hide()
        last = self._last_amounts.get(card.code) if card is not None else None
        if card is None or last is None or self._amount_text().strip():
            return
        if self.amount.currentWidget() is self.amount_choice:
            index = self.amount_choice.findData(last)
            if index < 0:
                return
            self.amount_choice.setCurrentIndex(index)
            self._choice_line.selectAll()
        else:
            self.amount_spin.setValue(last)
            self.amount_spin.selectAll()
        self._suggested = self._amount_text()
        self.amount_suggestion.setText(
            self.tr("Last amount for {brand}: a suggestion; type to replace it.").format(
                brand=card.name
            )
        )
        self.amount_suggestion.show()

    def _load_logos(self, cards: list[GiftCard]) -> None:
        """Put each brand's logo beside its name, as the logos arrive (in the background)."""
        wanted = [g for g in cards if g.logo_square_url or g.logo_url]
        if not wanted:
            return

        async def fetch() -> list[tuple[str, bytes | None]]:
            # One after the other: a dozen small files, and one task to cancel at shutdown.
            return [(g.code, await self._catalog.logo(g)) for g in wanted]

        def show(results: list[tuple[str, bytes | None]]) -> None:
            for code, content in results:
                index = self.brand.findData(code)
                pixmap = QPixmap()
                if index >= 0 and content and pixmap.loadFromData(content):
                    self.brand.setItemIcon(index, QIcon(pixmap))

        self._ops.run("logos", fetch, on_success=show, on_error=lambda exc: None)

    def gift_card(self) -> GiftCard | None:
        """The brand picked in the list (None while the text matches none)."""
        index = self.brand.currentIndex()
        if index < 0 or self.brand.currentText() != self.brand.itemText(index):
            return None
        return self._cards.get(self.brand.itemData(index))

    def _match_brand(self, text: str) -> int:
        """Index of the brand the text designates: exact name or code, else a unique match."""
        wanted = text.strip().casefold()
        if not wanted:
            return -1
        partial = []
        for i in range(self.brand.count()):
            name = self.brand.itemText(i).casefold()
            code = str(self.brand.itemData(i)).casefold()
            if wanted in (name, code):
                return i
            if wanted in name or wanted in code:
                partial.append(i)
        return partial[0] if len(partial) == 1 else -1

    def _on_completion(self, text: str) -> None:
        index = self.brand.findText(text, Qt.MatchFlag.MatchFixedString)
        if index >= 0:
            self.brand.setCurrentIndex(index)

    def _on_brand_edited(self) -> None:
        if self.gift_card() is not None:
            return
        index = self._match_brand(self.brand.currentText())
        if index >= 0:
            if index == self.brand.currentIndex():
                self.brand.setEditText(self.brand.itemText(index))
                self._on_brand_changed()
            else:
                self.brand.setCurrentIndex(index)

    def _on_focus_changed(self, old: QWidget | None, new: QWidget | None) -> None:
        # The combo box's line edit never sees the focus leave (the combo holds it, and the
        # completer's popup takes it while open): resolve what was typed once focus moves on
        # to another field; the amount page then follows the brand's kind, focus included.
        if (
            new is not None
            and new is not self.brand
            and self.isAncestorOf(new)
            and not self.brand.isAncestorOf(new)
        ):
            self._on_brand_edited()

    def _on_brand_changed(self, *_: object) -> None:
        card = self.gift_card()
        self.brand_hint.setVisible(card is not None)
        if card is not None:
            hint = self._describe_amounts(card)
            if card.discount:
                hint += "\n" + self.tr("Your discount: {discount} %").format(discount=card.discount)
            self.brand_hint.setText(hint)
        self._show_amount_widget(card)
        self._show_star()
        self._suggest_amount(card)
        self._schedule_inventory()
        self._on_amount_changed()

    def _describe_amounts(self, card: GiftCard) -> str:
        fv = card.facial_values

        def money(value: int) -> str:
            return format_amount(value, self._currency)

        if fv.type == "fixed":
            if not fv.amounts:
                return self.tr("No amount can be issued")
            return self.tr("Amounts: {amounts}").format(
                amounts=", ".join(money(a) for a in fv.amounts)
            )
        if fv.type == "free" and fv.min_amount is not None and fv.max_amount is not None:
            if fv.step_amount > 1:
                return self.tr("From {low} to {high}, in steps of {step}").format(
                    low=money(fv.min_amount), high=money(fv.max_amount), step=money(fv.step_amount)
                )
            return self.tr("Any amount from {low} to {high}").format(
                low=money(fv.min_amount), high=money(fv.max_amount)
            )
        return self.tr("Any amount")

    # ------------------------------------------------------------------ amount

    def _symbols(self) -> tuple[str, ...]:
        """The ways the currency may be typed beside an amount ("€", "EUR")."""
        locale_symbol = QLocale().currencySymbol(QLocale.CurrencySymbolFormat.CurrencySymbol)
        code = (self._currency or "").upper()
        own = currency_symbol(code)
        return tuple(dict.fromkeys(x for x in (own, code, code.lower(), locale_symbol) if x))

    def _show_amount_widget(self, card: GiftCard | None) -> None:
        previous = self.amount_value()
        fv = card.facial_values if card else None
        if fv is not None and fv.type == "fixed":
            was_shown = self.amount.currentWidget() is self.amount_choice
            typed = self._choice_line.text()
            self.amount_choice.blockSignals(True)
            self._choice_line.blockSignals(True)
            self.amount_choice.clear()
            for value in fv.amounts:
                self.amount_choice.addItem(format_amount(value, self._currency), value)
            keep = self.amount_choice.findData(previous) if previous is not None else -1
            # An amount is kept only if the agent chose it already; never a default one.
            self.amount_choice.setCurrentIndex(keep)
            if keep < 0:
                self._choice_line.setText(typed if was_shown else "")
            self._choice_line.blockSignals(False)
            self.amount_choice.blockSignals(False)
            page: QWidget = self.amount_choice
        else:
            if fv is not None and fv.type == "free" and fv.min_amount is not None:
                high = fv.max_amount if fv.max_amount is not None else MAX_AMOUNT
                self.amount_spin.setRange(fv.min_amount, min(max(high, fv.min_amount), MAX_AMOUNT))
                self.amount_spin.setSingleStep(fv.step_amount)
            else:
                self.amount_spin.setRange(1, MAX_AMOUNT)
                self.amount_spin.setSingleStep(1)
            if self.amount.currentWidget() is not self.amount_spin and previous is not None:
                self.amount_spin.blockSignals(True)
                self.amount_spin.setValue(previous)  # the amount chosen in the list, carried over
                self.amount_spin.blockSignals(False)
            page = self.amount_spin
        self.amount.setCurrentWidget(page)  # focus on the old page moves to the new one
        self.amount.setFocusProxy(page)
        self.amount_label.setBuddy(page)
        if page.hasFocus():  # the agent is on it: what is typed replaces what it shows
            (self._choice_line if page is self.amount_choice else self.amount_spin).selectAll()

    def _amount_text(self) -> str:
        if self.amount.currentWidget() is self.amount_choice:
            return self._choice_line.text()
        return self.amount_spin.text()

    def amount_value(self) -> int | None:
        """The amount typed or chosen, exactly (None when the text is not a whole number)."""
        if self.amount.currentWidget() is self.amount_choice:
            index = self.amount_choice.currentIndex()
            text = self._choice_line.text()
            if index >= 0 and text == self.amount_choice.itemText(index):
                data = self.amount_choice.itemData(index)
                return int(data) if data is not None else None
            return parse_whole_number(text, symbols=self._symbols())
        return self.amount_spin.value()

    def amount_problem(self, *, typing: bool = False) -> str | None:
        """Why the amount cannot be issued for the chosen brand, or None.

        ``typing``: the agent is still at it, so an empty field is not (yet) a problem.
        """
        card = self.gift_card()
        if card is None:
            return None
        amount = self.amount_value()
        if amount is None:
            if not self._amount_text().strip():
                if typing:
                    return None
                if card.facial_values.type == "fixed":
                    return self.tr("Choose an amount.")
                return self.tr("Type an amount.")
            return self.tr(
                "Type the amount in whole {currency}, in digits: 50, for instance."
            ).format(currency=currency_symbol(self._currency))
        return self._refusal(card, amount)

    def _refusal(self, card: GiftCard, amount: int) -> str | None:
        """The form's own sentence (translated) when ``card`` does not take ``amount``.

        The facial values decide (as the engine will, and as Walleo would); the sentence says
        which rule the amount broke and what would be accepted.
        """
        fv = card.facial_values
        allowed = fv.validate(amount) is None
        ceiling = MAX_AMOUNT  # a fixed amount is one of the brand's own: no ceiling of ours
        if fv.type == "free" and fv.max_amount is not None:
            ceiling = min(ceiling, fv.max_amount)
        if allowed and (fv.type == "fixed" or 0 < amount <= ceiling):
            return None

        def money(value: int) -> str:
            return format_amount(value, self._currency)

        brand = card.name
        if fv.type == "fixed":
            if not fv.amounts:
                return self.tr("{brand} lists no amount that can be issued.").format(brand=brand)
            return self.tr("{brand} is issued in {amounts} only.").format(
                brand=brand, amounts=self._either([money(a) for a in fv.amounts])
            )
        low = fv.min_amount if fv.type == "free" and fv.min_amount is not None else 1
        if amount < low:
            return self.tr("The smallest amount for {brand} is {low}.").format(
                brand=brand, low=money(low)
            )
        if amount > ceiling:
            return self.tr("The largest amount for {brand} is {high}.").format(
                brand=brand, high=money(ceiling)
            )
        step = fv.step_amount
        below = low + ((amount - low) // step) * step
        options = [money(v) for v in (below, below + step) if low <= v <= ceiling]
        return self.tr("{brand} is issued in steps of {step}: {options}, for instance.").format(
            brand=brand, step=money(step), options=self._either(options)
        )

    def _either(self, items: list[str]) -> str:
        if len(items) == 1:
            return items[0]
        return self.tr("{first} or {last}").format(first=", ".join(items[:-1]), last=items[-1])

    def _on_amount_changed(self, *_: object) -> None:
        self.form_error.hide()  # the last refusal was about what is being changed now
        if self._suggested is not None and self._amount_text() != self._suggested:
            self._suggested = None  # typed over: no longer a suggestion
            self.amount_suggestion.hide()
        problem = self.amount_problem(typing=True)
        self.amount_error.setText(problem or "")
        self.amount_error.setVisible(bool(problem))
        self._show_stock_hint()
        self._schedule_inventory(only_if_stale=True)
        self._update_total()

    # ------------------------------------------------------------------ quantity

    def quantity_problem(self, *, typing: bool = False) -> str | None:
        """Why the quantity cannot be issued, or None."""
        count = self.quantity.value()
        if count is None:
            if not self.quantity.text().strip():
                return None if typing else self.tr("Type how many cards to issue.")
            return self.tr("Type the number of cards in digits: 1, 2, 3…")
        if count < 1:
            return self.tr("Issue at least 1 card.")
        if count > MAX_QUANTITY:
            return self.tr("At most {max} cards in one pull.").format(max=MAX_QUANTITY)
        return None

    def _on_quantity_changed(self, *_: object) -> None:
        self.form_error.hide()
        problem = self.quantity_problem(typing=True)
        self.quantity_error.setText(problem or "")
        self.quantity_error.setVisible(bool(problem))
        self._update_total()

    def _update_total(self, *_: object) -> None:
        card, amount, count = self.gift_card(), self.amount_value(), self.quantity.value()
        if (
            card is None
            or amount is None
            or count is None
            or self.amount_problem()
            or self.quantity_problem()
        ):
            self.total.setText("")
            self.total.hide()
            return
        self.total.setText(
            self.tr("Total: {count} × {amount} = {total}").format(
                count=count,
                amount=format_amount(amount, self._currency),
                total=format_amount(amount * count, self._currency),
            )
        )
        self.total.show()

    # ------------------------------------------------------------------ stock hint

    def _schedule_inventory(self, *, only_if_stale: bool = False) -> None:
        card = self.gift_card()
        if card is None:
            self.stock.hide()
            return
        cached = self._inventories.get(card.code)
        if only_if_stale and cached and time.monotonic() - cached[0] < INVENTORY_TTL:
            return
        self._inventory_timer.start()

    def _fetch_inventory(self) -> None:
        card = self.gift_card()
        if card is None or self._stopped:
            return
        code = card.code
        cached = self._inventories.get(code)
        if cached and time.monotonic() - cached[0] < INVENTORY_TTL:
            self._show_stock_hint()
            return
        if not cached:
            self.stock.setText(self.tr("Checking stock…"))
            self.stock.setStyleSheet(_MUTED)
            self.stock.show()

        def done(inventory: Inventory) -> None:
            self._inventories[code] = (time.monotonic(), inventory)
            self._inventory_errors.pop(code, None)
            self._show_stock_hint()

        def failed(exc: BaseException) -> None:
            log.info("stock of %s unknown: %s", code, exc)
            self._inventory_errors[code] = str(exc) or type(exc).__name__
            self._show_stock_hint()

        self._ops.run(
            f"inventory:{code}",
            lambda: self._catalog.inventory(code),
            on_success=done,
            on_error=failed,
        )

    def _show_stock_hint(self) -> None:
        card, amount = self.gift_card(), self.amount_value()
        if card is None or amount is None or self.amount_problem():
            self.stock.hide()
            return
        cached = self._inventories.get(card.code)
        error = self._inventory_errors.get(card.code)
        style, tooltip = _MUTED, ""
        if cached is None:
            if error is None:
                return  # still loading: keep "Checking stock…"
            text, tooltip = self.tr("Stock unknown"), error
        else:
            inventory = cached[1]
            count = inventory.stock_for(amount)
            money = format_amount(amount, self._currency)
            if count is not None and count > 0:
                text = self.tr("In stock: {count} of {amount}").format(count=count, amount=money)
            elif inventory.end_to_end_enabled:
                if inventory.available_amount is None:
                    text = self.tr("Issued on demand")
                else:
                    text = self.tr("Issued on demand, up to {available}").format(
                        available=format_amount(inventory.available_amount, self._currency)
                    )
            elif count == 0:
                text, style = self.tr("Out of stock at {amount}").format(amount=money), _WARN
            else:
                text = self.tr("Stock unknown")
        self.stock.setText(text)
        self.stock.setToolTip(tooltip)
        self.stock.setStyleSheet(style)
        self.stock.show()

    def shutdown(self) -> None:
        """Stop the form's own background work (the window calls this when it closes)."""
        self._stopped = True
        self._inventory_timer.stop()

    # ------------------------------------------------------------------ submitting

    def focus_brand(self) -> None:
        if self._order is not None:
            self.confirm_button.setFocus(Qt.FocusReason.ShortcutFocusReason)
            return
        self.brand.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self._brand_line.selectAll()

    @property
    def confirming(self) -> bool:
        return self._order is not None

    def request_confirmation(self) -> bool:
        """Check the form and show the confirmation. False (reason shown) if it is not valid."""
        if self._order is not None:
            return True
        self._on_brand_edited()
        card = self.gift_card()
        if card is None:
            has_text = bool(self.brand.currentText().strip())
            return self._refuse(
                self.tr("Pick a brand from the list.")
                if has_text or self._cards
                else self.tr("The catalog is not loaded yet."),
                self.brand,
            )
        problem = self.amount_problem()
        amount = self.amount_value()
        if problem or amount is None:
            self._on_amount_changed()
            return self._refuse(problem or self.tr("Choose an amount."), self.amount)
        problem = self.quantity_problem()
        count = self.quantity.value()
        if problem or count is None:
            self._on_quantity_changed()
            return self._refuse(problem or self.tr("Type how many cards to issue."), self.quantity)
        self.form_error.hide()
        self._order = Order(
            gift_card=card,
            amount=amount,
            count=count,
            reference=self.reference.text().strip(),
            note=self.note.text().strip(),
        )
        self.confirm_text.setText(self._confirmation_text(self._order))
        self._focus_before_confirm = self.focusWidget()
        self.fields.setEnabled(False)
        self.issue_button.hide()
        self.confirm_panel.show()
        self.confirm_button.setEnabled(True)
        self.confirm_button.setFocus(Qt.FocusReason.OtherFocusReason)
        return True

    def _confirmation_text(self, order: Order) -> str:
        text = self.tr("Issue {count} × {brand} {amount} = {total}?").format(
            count=order.count,
            brand=order.gift_card.name,
            amount=format_amount(order.amount, self._currency),
            total=format_amount(order.amount * order.count, self._currency),
        )
        if order.reference:
            text += "\n" + self.tr("Reference: {reference}").format(reference=order.reference)
        return text

    def _refuse(self, reason: str, widget: QWidget) -> bool:
        self.form_error.setText(reason)
        self.form_error.show()
        widget.setFocus(Qt.FocusReason.OtherFocusReason)
        return False

    def cancel_confirmation(self) -> None:
        if self._order is None:
            return
        self._order = None
        self._close_confirmation()
        target = self._focus_before_confirm
        (target if target is not None and target.isEnabled() else self.issue_button).setFocus()

    def _close_confirmation(self) -> None:
        self.confirm_panel.hide()
        self.issue_button.show()
        self.fields.setEnabled(True)

    def confirm(self) -> None:
        """Submit the confirmed order, exactly once: journaled on the database thread, then
        sent. ``submitted`` is emitted with the journaled pulls; a refusal (nothing was
        journaled, nothing sent) is said beside the form. The same reference, brand and
        amount issued in the last 24 hours asks first (``duplicate_question``)."""
        order, self._order = self._order, None
        if order is None:
            return
        self.confirm_button.setEnabled(False)
        self._close_confirmation()
        self._send(order, confirmed=())

    def _send(self, order: Order, *, confirmed: tuple[int, ...]) -> None:
        self.fields.setEnabled(False)  # until the intents are journaled
        self.issue_button.setEnabled(False)

        def journaled(pulls: list[PullRecord]) -> None:
            self._submit_done()
            self.form_error.hide()
            self.reference.clear()
            self.note.clear()
            self.quantity.setValue(1)
            self.reference.setFocus(Qt.FocusReason.OtherFocusReason)
            self.submitted.emit(list(pulls))

        def refused(exc: BaseException) -> None:
            self._submit_done()
            if isinstance(exc, DuplicateIntentError):
                self._ask_about_duplicates(order, exc.matches)
            elif isinstance(exc, ValueError | RuntimeError | StoreError):
                self._refuse(str(exc), self.amount)
            else:
                log.error("the pull could not be journaled", exc_info=exc)
                self._refuse(
                    self.tr("The pull could not be journaled; nothing was sent. See the log."),
                    self.amount,
                )

        self._ops.run(
            "submit",
            lambda: self._engine.submit(
                order.gift_card,
                order.amount,
                count=order.count,
                reference=order.reference,
                note=order.note,
                confirmed_duplicates=confirmed,
            ),
            on_success=journaled,
            on_error=refused,
        )

    def _ask_about_duplicates(self, order: Order, matches: list[PullRecord]) -> None:
        """The same customer reference, brand and amount was issued lately: say when and by
        whom, and issue again only if the agent says so (nothing was journaled meanwhile)."""
        first = matches[0]
        when = QLocale().toString(
            QDateTime.fromSecsSinceEpoch(int(first.created_at.timestamp())),
            QLocale.FormatType.ShortFormat,
        )
        box = QMessageBox(
            QMessageBox.Icon.Warning,
            self.tr("Issue this again?"),
            self.tr(
                "{brand} {amount} for reference “{reference}” was already pulled {count} time(s) "
                "in the last 24 hours, first on {when} by {agent}."
            ).format(
                brand=order.gift_card.name,
                amount=format_amount(order.amount, self._currency),
                reference=order.reference,
                count=len(matches),
                when=when,
                agent=first.agent or self.tr("someone"),
            ),
            QMessageBox.StandardButton.Cancel,
            self,
        )
        box.setObjectName("duplicateQuestion")
        again = box.addButton(self.tr("Issue again"), QMessageBox.ButtonRole.AcceptRole)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.setInformativeText(
            self.tr("Nothing was sent. Issue again only if the customer should get another card.")
        )
        ids = tuple(m.id for m in matches)

        def answered(_result: int) -> None:
            chosen = box.clickedButton()
            box.deleteLater()
            self.duplicate_question = None
            if chosen is again:
                self._send(order, confirmed=ids)
            else:
                self._refuse(self.tr("Not issued: it was already pulled lately."), self.reference)

        box.finished.connect(answered)
        self.duplicate_question = box
        box.open()

    def _submit_done(self) -> None:
        self.fields.setEnabled(True)
        self.issue_button.setEnabled(True)

    # ------------------------------------------------------------------ keyboard

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            if self._order is not None:
                self.confirm()
            else:
                self.request_confirmation()
            event.accept()
            return
        if key == Qt.Key.Key_Escape and self._order is not None:
            self.cancel_confirmation()
            event.accept()
            return
        super().keyPressEvent(event)

    def _completion_showing(self) -> bool:
        popup = self._completer.popup()
        return popup is not None and popup.isVisible()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (
            event.type() == QEvent.Type.KeyPress
            and isinstance(event, QKeyEvent)
            and event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
        ):
            if watched in (self.brand, self._brand_line) and not self._completion_showing():
                # An editable combo box keeps Enter to itself: resolve the brand, then submit.
                self._on_brand_edited()
                self.keyPressEvent(event)
                return True
            if watched in (self.amount_choice, self._choice_line):
                # The same for the amounts list: review exactly the text typed into it.
                self.keyPressEvent(event)
                return True
        return super().eventFilter(watched, event)
