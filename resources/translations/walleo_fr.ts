<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="fr_FR" sourcelanguage="en">
<context>
    <name>AboutDialog</name>
    <message>
        <source>About {app}</source>
        <translation>À propos de {app}</translation>
    </message>
    <message>
        <source>{app} icon</source>
        <translation>Icône de {app}</translation>
    </message>
    <message>
        <source>Version {version}</source>
        <translation>Version {version}</translation>
    </message>
    <message>
        <source>Issue, track and reconcile Walleo gift cards.</source>
        <translation>Émettre, suivre et rapprocher les cartes cadeaux Walleo.</translation>
    </message>
    <message>
        <source>&amp;History and cards:</source>
        <translation>&amp;Historique et cartes&#xa0;:</translation>
    </message>
    <message>
        <source>&amp;Logs:</source>
        <translation>&amp;Journaux&#xa0;:</translation>
    </message>
    <message>
        <source>&amp;Settings:</source>
        <translation>&amp;Paramètres&#xa0;:</translation>
    </message>
    <message>
        <source>Connection:</source>
        <translation>Connexion&#xa0;:</translation>
    </message>
    <message>
        <source>Proprietary software © Walleo. All rights reserved. Built with Qt {qt} and PySide6 {pyside} (LGPL v3).</source>
        <translation>Logiciel propriétaire © Walleo. Tous droits réservés. Réalisé avec Qt {qt} et PySide6 {pyside} (LGPL v3).</translation>
    </message>
    <message>
        <source>&amp;Copy details</source>
        <translation>&amp;Copier les détails</translation>
    </message>
    <message>
        <source>Copy the version, system and folders, to paste into a message to support</source>
        <translation>Copier la version, le système et les dossiers, à coller dans un message au support</translation>
    </message>
    <message>
        <source>Details copied. Paste them into your message.</source>
        <translation>Détails copiés. Collez-les dans votre message.</translation>
    </message>
</context>
<context>
    <name>App</name>
    <message>
        <source>Walleo Desktop cannot start</source>
        <translation>Walleo Desktop ne peut pas démarrer</translation>
    </message>
    <message>
        <source>The team&apos;s history cannot be opened: {reason} Running on the built-in simulator (DEMO) meanwhile: no real cards are issued. File &gt; Team… shows your membership.</source>
        <translation>L’historique de l’équipe ne peut pas être ouvert : {reason} En attendant, l’application tourne sur le simulateur intégré (DÉMO) : aucune vraie carte n’est émise. Fichier &gt; Équipe… montre votre adhésion.</translation>
    </message>
    <message>
        <source>No system keyring is available: the key that encrypts the card codes in your history is stored in the file {file} (readable by your user only). Anyone who can read your files can read the codes. Set up a keyring (GNOME Keyring, KWallet) and restart: the key moves there by itself.</source>
        <translation>Aucun trousseau système n’est disponible&#xa0;: la clé qui chiffre les codes des cartes de votre historique est enregistrée dans le fichier {file} (lisible par votre seul utilisateur). Quiconque peut lire vos fichiers peut lire les codes. Installez un trousseau (GNOME Keyring, KWallet) et redémarrez&#xa0;: la clé s’y déplacera d’elle-même.</translation>
    </message>
    <message>
        <source>the system keyring did not answer within {seconds} s</source>
        <translation>le trousseau du système n’a pas répondu en {seconds}&#xa0;s</translation>
    </message>
    <message>
        <source>Could not use your Walleo profile ({reason}). Running on the built-in simulator (DEMO): no real cards are issued.</source>
        <translation>Impossible d’utiliser votre profil Walleo ({reason}). L’application fonctionne sur le simulateur intégré (DÉMO)&#xa0;: aucune vraie carte n’est émise.</translation>
    </message>
</context>
<context>
    <name>AsyncOps</name>
    <message>
        <source>Something went wrong ({error}). The details are in the log.</source>
        <translation>Une erreur s’est produite ({error}). Les détails figurent dans le journal.</translation>
    </message>
</context>
<context>
    <name>BulkDialog</name>
    <message>
        <source>Bulk order from a file</source>
        <translation>Commande groupée depuis un fichier</translation>
    </message>
    <message>
        <source>A CSV or XLSX file: brand, amount, quantity…</source>
        <translation>Un fichier CSV ou XLSX : marque, montant, quantité…</translation>
    </message>
    <message>
        <source>&amp;Choose a file…</source>
        <translation>&amp;Choisir un fichier…</translation>
    </message>
    <message>
        <source>&amp;Issue…</source>
        <translation>Éme&amp;ttre…</translation>
    </message>
    <message>
        <source>&amp;Pause</source>
        <translation>&amp;Pause</translation>
    </message>
    <message>
        <source>&amp;Stop</source>
        <translation>&amp;Arrêter</translation>
    </message>
    <message>
        <source>Journal no more cards; the cards journaled are still finished</source>
        <translation>Ne plus journaliser de cartes ; les cartes déjà journalisées sont menées à terme</translation>
    </message>
    <message>
        <source>&amp;Open results</source>
        <translation>&amp;Ouvrir les résultats</translation>
    </message>
    <message>
        <source>Close</source>
        <translation>Fermer</translation>
    </message>
    <message>
        <source>Choose an order file</source>
        <translation>Choisir un fichier de commande</translation>
    </message>
    <message>
        <source>Orders (*.csv *.xlsx);;All files (*)</source>
        <translation>Commandes (*.csv *.xlsx);;Tous les fichiers (*)</translation>
    </message>
    <message>
        <source>Reading and checking the file…</source>
        <translation>Lecture et vérification du fichier…</translation>
    </message>
    <message>
        <source>Nothing was sent.</source>
        <translation>Rien n’a été envoyé.</translation>
    </message>
    <message>
        <source>The file could not be read. See the log.</source>
        <translation>Le fichier n’a pas pu être lu. Voir le journal.</translation>
    </message>
    <message>
        <source>{rows} row(s): {ok} ready, {bad} with problems, {empty} empty skipped.</source>
        <translation>{rows} ligne(s) : {ok} prête(s), {bad} avec des problèmes, {empty} vide(s) ignorée(s).</translation>
    </message>
    <message>
        <source>This file&apos;s import of {when} was interrupted: {done} card(s) were journaled (they are finished like any pull); the rows not journaled can be issued now.</source>
        <translation>L’import de ce fichier du {when} a été interrompu : {done} carte(s) ont été journalisées (elles sont menées à terme comme toute émission) ; les lignes non journalisées peuvent être émises maintenant.</translation>
    </message>
    <message>
        <source>This file (or these rows) was imported on {when} by {agent}.</source>
        <translation>Ce fichier (ou ces lignes) a été importé le {when} par {agent}.</translation>
    </message>
    <message>
        <source>someone</source>
        <translation>quelqu’un</translation>
    </message>
    <message>
        <source>Also issue the {count} row(s) already issued in the last 24 hours</source>
        <translation>Émettre aussi les {count} ligne(s) déjà émises ces dernières 24 heures</translation>
    </message>
    <message>
        <source>{brand}: {cards} × = {value}</source>
        <translation>{brand} : {cards} × = {value}</translation>
    </message>
    <message>
        <source>Total: {cards} card(s), {value}</source>
        <translation>Total : {cards} carte(s), {value}</translation>
    </message>
    <message>
        <source>&amp;Issue {cards} card(s)…</source>
        <translation>Éme&amp;ttre {cards} carte(s)…</translation>
    </message>
    <message>
        <source>Issue this order?</source>
        <translation>Émettre cette commande ?</translation>
    </message>
    <message>
        <source>Issue {cards} card(s), {value} in all, from {file}?</source>
        <translation>Émettre {cards} carte(s), {value} au total, depuis {file} ?</translation>
    </message>
    <message>
        <source>{count} row(s) were already issued in the last 24 hours: issued again.</source>
        <translation>{count} ligne(s) ont déjà été émises ces dernières 24 heures : elles sont émises à nouveau.</translation>
    </message>
    <message>
        <source>&amp;Resume</source>
        <translation>&amp;Reprendre</translation>
    </message>
    <message>
        <source>{journaled} of {planned} journaled, {sent} sent, {issued} issued, {failed} failed</source>
        <translation>{journaled} sur {planned} journalisées, {sent} envoyées, {issued} émises, {failed} en échec</translation>
    </message>
    <message>
        <source>, {count} in doubt (being checked)</source>
        <translation>, {count} incertaine(s) (en vérification)</translation>
    </message>
    <message>
        <source>paused: the cards journaled are finished, {waiting} wait</source>
        <translation>en pause : les cartes journalisées sont menées à terme, {waiting} attendent</translation>
    </message>
    <message>
        <source>stopping: the cards journaled are finished</source>
        <translation>arrêt : les cartes journalisées sont menées à terme</translation>
    </message>
    <message>
        <source>The order stopped: {error}. Journaled cards are finished anyway.</source>
        <translation>La commande s’est arrêtée : {error}. Les cartes journalisées sont menées à terme quand même.</translation>
    </message>
    <message>
        <source>{issued} of {rows} row(s) issued. Results: {path}</source>
        <translation>{issued} ligne(s) émise(s) sur {rows}. Résultats : {path}</translation>
    </message>
    <message>
        <source>The results file could not be written: {error}</source>
        <translation>Le fichier de résultats n’a pas pu être écrit : {error}</translation>
    </message>
    <message>
        <source>Issue these rows again?</source>
        <translation>Émettre ces lignes à nouveau ?</translation>
    </message>
    <message>
        <source>Row(s) {rows} were issued meanwhile by {agent}.</source>
        <translation>Ligne(s) {rows} émise(s) entre-temps par {agent}.</translation>
    </message>
    <message>
        <source>Issue again</source>
        <translation>Émettre à nouveau</translation>
    </message>
    <message>
        <source>Cancel leaves them out; the rest of the order goes on.</source>
        <translation>Annuler les laisse de côté ; le reste de la commande continue.</translation>
    </message>
    <message>
        <source>The order is running: Stop it first (the cards journaled are finished).</source>
        <translation>La commande est en cours : arrêtez-la d’abord (les cartes journalisées sont menées à terme).</translation>
    </message>
</context>
<context>
    <name>BulkOrder</name>
    <message>
        <source>There is no file {path}.</source>
        <translation>Il n’y a pas de fichier {path}.</translation>
    </message>
    <message>
        <source>The file cannot be read: {error}.</source>
        <translation>Le fichier ne peut pas être lu : {error}.</translation>
    </message>
    <message>
        <source>Only .csv and .xlsx files can be read (not {suffix}).</source>
        <translation>Seuls les fichiers .csv et .xlsx peuvent être lus (pas {suffix}).</translation>
    </message>
    <message>
        <source>The file is {size} bytes; at most {max} bytes can be read.</source>
        <translation>Le fichier fait {size} octets ; au plus {max} octets peuvent être lus.</translation>
    </message>
    <message>
        <source>The spreadsheet unpacks to {size} bytes; at most {max} are read.</source>
        <translation>Le classeur se décompresse en {size} octets ; au plus {max} sont lus.</translation>
    </message>
    <message>
        <source>The file is neither UTF-8 nor Windows-1252 text.</source>
        <translation>Le fichier n’est ni du texte UTF-8 ni du Windows-1252.</translation>
    </message>
    <message>
        <source>Row {row}: the file cannot be read as CSV ({error}).</source>
        <translation>Ligne {row} : le fichier ne peut pas être lu comme un CSV ({error}).</translation>
    </message>
    <message>
        <source>The file cannot be read as an XLSX spreadsheet ({error}).</source>
        <translation>Le fichier ne peut pas être lu comme un classeur XLSX ({error}).</translation>
    </message>
    <message>
        <source>The spreadsheet has no visible worksheet.</source>
        <translation>Le classeur n’a aucune feuille visible.</translation>
    </message>
    <message>
        <source>The file holds no rows.</source>
        <translation>Le fichier ne contient aucune ligne.</translation>
    </message>
    <message>
        <source>Row {row} names none of the columns brand, amount, quantity, reference, note.</source>
        <translation>La ligne {row} ne nomme aucune des colonnes marque, montant, quantité, référence, note.</translation>
    </message>
    <message>
        <source>The header can be split by {delimiters} alike; save the file again.</source>
        <translation>L’en-tête se découpe aussi bien par {delimiters} ; enregistrez le fichier à nouveau.</translation>
    </message>
    <message>
        <source>Row {row} has no {missing} column (found: {found}).</source>
        <translation>La ligne {row} n’a pas de colonne {missing} (trouvé : {found}).</translation>
    </message>
    <message>
        <source>Two columns are the {column}: {headers}.</source>
        <translation>Deux colonnes sont « {column} » : {headers}.</translation>
    </message>
    <message>
        <source>The file holds more than {max} rows; split it.</source>
        <translation>Le fichier contient plus de {max} lignes ; découpez-le.</translation>
    </message>
    <message>
        <source>The order is {cards} cards; at most {max} can be issued from one file.</source>
        <translation>La commande compte {cards} cartes ; au plus {max} peuvent être émises depuis un fichier.</translation>
    </message>
    <message>
        <source>The file is not UTF-8: it was read as Windows-1252; check the accents.</source>
        <translation>Le fichier n’est pas en UTF-8 : il a été lu en Windows-1252 ; vérifiez les accents.</translation>
    </message>
    <message>
        <source>Not used: {columns}.</source>
        <translation>Non utilisé : {columns}.</translation>
    </message>
    <message>
        <source>Only the worksheet {sheet} was read (also in the file: {others}).</source>
        <translation>Seule la feuille {sheet} a été lue (aussi dans le fichier : {others}).</translation>
    </message>
    <message>
        <source>No brand.</source>
        <translation>Pas de marque.</translation>
    </message>
    <message>
        <source>No brand “{brand}” in the catalog.</source>
        <translation>Pas de marque « {brand} » dans le catalogue.</translation>
    </message>
    <message>
        <source>“{brand}” names several brands ({codes}): use the code.</source>
        <translation>« {brand} » désigne plusieurs marques ({codes}) : utilisez le code.</translation>
    </message>
    <message>
        <source>No amount.</source>
        <translation>Pas de montant.</translation>
    </message>
    <message>
        <source>“{text}” is not an amount.</source>
        <translation>« {text} » n’est pas un montant.</translation>
    </message>
    <message>
        <source>“{text}” could be {first} or {second}: write it without separator.</source>
        <translation>« {text} » peut valoir {first} ou {second} : écrivez-le sans séparateur.</translation>
    </message>
    <message>
        <source>“{text}” is not a whole amount.</source>
        <translation>« {text} » n’est pas un montant entier.</translation>
    </message>
    <message>
        <source>“{text}” looks like a formula: formulas are not computed; type the amount.</source>
        <translation>« {text} » ressemble à une formule : les formules ne sont pas calculées ; saisissez le montant.</translation>
    </message>
    <message>
        <source>“{text}” is a date, not an amount.</source>
        <translation>« {text} » est une date, pas un montant.</translation>
    </message>
    <message>
        <source>The amount must be from 1 to {max}.</source>
        <translation>Le montant doit aller de 1 à {max}.</translation>
    </message>
    <message>
        <source>{brand} does not take {amount}: {rule}</source>
        <translation>{brand} n’accepte pas {amount} : {rule}</translation>
    </message>
    <message>
        <source>“{text}” is not a number of cards.</source>
        <translation>« {text} » n’est pas un nombre de cartes.</translation>
    </message>
    <message>
        <source>The quantity must be from 1 to {max}.</source>
        <translation>La quantité doit aller de 1 à {max}.</translation>
    </message>
    <message>
        <source>No reference.</source>
        <translation>Pas de référence.</translation>
    </message>
    <message>
        <source>The {column} holds a line break or another control character.</source>
        <translation>La colonne {column} contient un saut de ligne ou un autre caractère de contrôle.</translation>
    </message>
    <message>
        <source>The {column} is {length} characters long; at most {max}.</source>
        <translation>La colonne {column} fait {length} caractères ; au plus {max}.</translation>
    </message>
    <message>
        <source>The reference is also on row(s) {rows}.</source>
        <translation>La référence figure aussi en ligne(s) {rows}.</translation>
    </message>
    <message>
        <source>The {column} looks like a formula; it is kept as text.</source>
        <translation>La colonne {column} ressemble à une formule ; elle est gardée comme texte.</translation>
    </message>
    <message>
        <source>“{text}” does not look like an e-mail address.</source>
        <translation>« {text} » ne ressemble pas à une adresse e-mail.</translation>
    </message>
    <message>
        <source>brand</source>
        <translation>marque</translation>
    </message>
    <message>
        <source>amount</source>
        <translation>montant</translation>
    </message>
    <message>
        <source>quantity</source>
        <translation>quantité</translation>
    </message>
    <message>
        <source>reference</source>
        <translation>référence</translation>
    </message>
    <message>
        <source>note</source>
        <translation>note</translation>
    </message>
    <message>
        <source>e-mail</source>
        <translation>e-mail</translation>
    </message>
    <message>
        <source>its amounts are {amounts}.</source>
        <translation>ses montants sont {amounts}.</translation>
    </message>
    <message>
        <source>from {low} to {high}, in steps of {step}.</source>
        <translation>de {low} à {high}, par pas de {step}.</translation>
    </message>
    <message>
        <source>Row</source>
        <translation>Ligne</translation>
    </message>
    <message>
        <source>Brand</source>
        <translation>Enseigne</translation>
    </message>
    <message>
        <source>Amount</source>
        <translation>Montant</translation>
    </message>
    <message>
        <source>Quantity</source>
        <translation>Quantité</translation>
    </message>
    <message>
        <source>Reference</source>
        <translation>Référence</translation>
    </message>
    <message>
        <source>Note</source>
        <translation>Note</translation>
    </message>
    <message>
        <source>Check</source>
        <translation>Contrôle</translation>
    </message>
    <message>
        <source>Journaled earlier in this order</source>
        <translation>Journalisée plus tôt dans cette commande</translation>
    </message>
    <message>
        <source>Already issued on {when} by {agent}</source>
        <translation>Déjà émise le {when} par {agent}</translation>
    </message>
    <message>
        <source>someone</source>
        <translation>quelqu’un</translation>
    </message>
    <message>
        <source>Ready</source>
        <translation>Prête</translation>
    </message>
</context>
<context>
    <name>CardPane</name>
    <message>
        <source>Select a pull to see its card.</source>
        <translation>Sélectionnez une émission pour voir sa carte.</translation>
    </message>
    <message>
        <source>Code</source>
        <translation>Code</translation>
    </message>
    <message>
        <source>Copy</source>
        <translation>Copier</translation>
    </message>
    <message>
        <source>PIN</source>
        <translation>PIN</translation>
    </message>
    <message>
        <source>Copy the PIN; the clipboard is cleared after a while</source>
        <translation>Copier le PIN&#xa0;; le presse-papiers est vidé au bout d’un moment</translation>
    </message>
    <message>
        <source>Show or hide the code ({keys})</source>
        <translation>Afficher ou masquer le code ({keys})</translation>
    </message>
    <message>
        <source>Copy the code; the clipboard is cleared after a while ({keys})</source>
        <translation>Copier le code&#xa0;; le presse-papiers est vidé au bout d’un moment ({keys})</translation>
    </message>
    <message>
        <source>Show or hide the PIN ({keys})</source>
        <translation>Afficher ou masquer le PIN ({keys})</translation>
    </message>
    <message>
        <source>&amp;E-mail to customer…</source>
        <translation>Envoyer par e-mai&amp;l au client…</translation>
    </message>
    <message>
        <source>Send the card (code, PIN, expiry, its PDF) to the customer&apos;s address</source>
        <translation>Envoyer la carte (code, PIN, date d’expiration, son PDF) à l’adresse du client</translation>
    </message>
    <message>
        <source>Prin&amp;t…</source>
        <translation>Im&amp;primer…</translation>
    </message>
    <message>
        <source>Print the card (its PDF, or a card page)</source>
        <translation>Imprimer la carte (son PDF, ou une page de carte)</translation>
    </message>
    <message>
        <source>Cop&amp;y all</source>
        <translation>To&amp;ut copier</translation>
    </message>
    <message>
        <source>Copy the code, the PIN and the expiry day; the clipboard is cleared after a while</source>
        <translation>Copier le code, le PIN et la date d’expiration&#xa0;; le presse-papiers est effacé après un moment</translation>
    </message>
    <message>
        <source>Retry</source>
        <translation>Réessayer</translation>
    </message>
    <message>
        <source>Send the e-mail again to the same address</source>
        <translation>Renvoyer l’e-mail à la même adresse</translation>
    </message>
    <message>
        <source>Gift card</source>
        <translation>Carte cadeau</translation>
    </message>
    <message>
        <source>Pull #%s</source>
        <translation>Émission n° %s</translation>
    </message>
    <message>
        <source>Reference %s</source>
        <translation>Référence %s</translation>
    </message>
    <message>
        <source>by %s</source>
        <translation>par %s</translation>
    </message>
    <message>
        <source>No expiry date</source>
        <translation>Pas de date d’expiration</translation>
    </message>
    <message>
        <source>Expired on %s</source>
        <translation>Expirée le %s</translation>
    </message>
    <message>
        <source>Expires today (%s)</source>
        <translation>Expire aujourd’hui (%s)</translation>
    </message>
    <message>
        <source>Expires tomorrow (%s)</source>
        <translation>Expire demain (%s)</translation>
    </message>
    <message>
        <source>Expires in %s days (%s)</source>
        <translation>Expire dans %s jours (%s)</translation>
    </message>
    <message>
        <source>Expires on %s</source>
        <translation>Expire le %s</translation>
    </message>
    <message>
        <source>Hide</source>
        <translation>Masquer</translation>
    </message>
    <message>
        <source>Reveal</source>
        <translation>Afficher</translation>
    </message>
    <message>
        <source>Code, hidden</source>
        <translation>Code, masqué</translation>
    </message>
    <message>
        <source>PIN, hidden</source>
        <translation>PIN, masqué</translation>
    </message>
    <message>
        <source>Waiting for Walleo… the card appears here as soon as it is issued.</source>
        <translation>En attente de Walleo… la carte s’affichera ici dès qu’elle sera émise.</translation>
    </message>
    <message>
        <source>The last answer from Walleo was lost; the app is checking whether the card was issued. Nothing needs to be done.</source>
        <translation>La dernière réponse de Walleo a été perdue&#xa0;; l’application vérifie si la carte a été émise. Vous n’avez rien à faire.</translation>
    </message>
    <message>
        <source>This is taking longer than usual; the app keeps checking.</source>
        <translation>C’est plus long que d’habitude&#xa0;; l’application continue de vérifier.</translation>
    </message>
    <message>
        <source>The card was issued; its details are being fetched.</source>
        <translation>La carte a été émise&#xa0;; ses détails sont en cours de récupération.</translation>
    </message>
    <message>
        <source>Walleo refused this pull: no card was issued.</source>
        <translation>Walleo a refusé cette émission&#xa0;: aucune carte n’a été émise.</translation>
    </message>
    <message>
        <source>Walleo could not issue this card.</source>
        <translation>Walleo n’a pas pu émettre cette carte.</translation>
    </message>
    <message>
        <source>Reason: %s (%s)</source>
        <translation>Motif&#xa0;: %s (%s)</translation>
    </message>
    <message>
        <source>Reason: %s</source>
        <translation>Motif&#xa0;: %s</translation>
    </message>
    <message>
        <source>Walleo gave no reason.</source>
        <translation>Walleo n’a donné aucun motif.</translation>
    </message>
    <message>
        <source>Code: %s</source>
        <translation>Code&#xa0;: %s</translation>
    </message>
    <message>
        <source>PIN: %s</source>
        <translation>PIN&#xa0;: %s</translation>
    </message>
    <message>
        <source>Valid until %s</source>
        <translation>Valable jusqu’au %s</translation>
    </message>
    <message>
        <source>Code, PIN and expiry</source>
        <translation>Code, PIN et date d’expiration</translation>
    </message>
</context>
<context>
    <name>CardPrint</name>
    <message>
        <source>The printer could not be opened: check that it is switched on and connected, or choose another one.</source>
        <extracomment>PDF pages are rendered at this resolution at most: a card is text and a barcode, and a 1200-dpi A4 page would be a 500 MB image.</extracomment>
        <translation>L’imprimante n’a pas pu être ouverte&#xa0;: vérifiez qu’elle est allumée et branchée, ou choisissez-en une autre.</translation>
    </message>
    <message>
        <source>The card&apos;s PDF could not be opened for printing.</source>
        <translation>Le PDF de la carte n’a pas pu être ouvert pour l’impression.</translation>
    </message>
    <message>
        <source>The printer stopped after %s page(s).</source>
        <translation>L’imprimante s’est arrêtée après %s page(s).</translation>
    </message>
    <message>
        <source>The printer did not finish the job.</source>
        <translation>L’imprimante n’a pas terminé l’impression.</translation>
    </message>
    <message>
        <source>The printer reported an error; the card may not have printed.</source>
        <translation>L’imprimante a signalé une erreur&#xa0;; la carte n’a peut-être pas été imprimée.</translation>
    </message>
    <message>
        <source>No expiry date</source>
        <translation>Pas de date d’expiration</translation>
    </message>
    <message>
        <source>Valid until %s</source>
        <translation>Valable jusqu’au %s</translation>
    </message>
    <message>
        <source>How to use it online</source>
        <translation>Utilisation en ligne</translation>
    </message>
    <message>
        <source>How to use it in shops</source>
        <translation>Utilisation en magasin</translation>
    </message>
    <message>
        <source>Terms of use</source>
        <translation>Conditions d’utilisation</translation>
    </message>
</context>
<context>
    <name>ChartView</name>
    <message>
        <source>No cards were issued in this period.</source>
        <translation>Aucune carte n’a été émise sur cette période.</translation>
    </message>
    <message>
        <source>Other</source>
        <translation>Autres</translation>
    </message>
    <message>
        <source>Issued value per day</source>
        <translation>Valeur émise par jour</translation>
    </message>
    <message>
        <source>Face value</source>
        <translation>Valeur faciale</translation>
    </message>
</context>
<context>
    <name>DateEdit</name>
    <message>
        <source>Pick the date in a calendar ({keys})</source>
        <translation>Choisir la date dans un calendrier ({keys})</translation>
    </message>
    <message>
        <source>“{text}” is not a date: type it like {example}.</source>
        <translation>«&#xa0;{text}&#xa0;» n’est pas une date&#xa0;: tapez-la comme {example}.</translation>
    </message>
</context>
<context>
    <name>Delivery</name>
    <message>
        <source>E-mail is not set up for this profile: enter the team&apos;s SMTP server in File → Settings… → E-mail.</source>
        <translation>L’e-mail n’est pas configuré pour ce profil&#xa0;: indiquez le serveur SMTP de l’équipe dans Fichier → Paramètres… → E-mail.</translation>
    </message>
    <message>
        <source>“{address}” is not a valid e-mail address.</source>
        <translation>«&#xa0;{address}&#xa0;» n’est pas une adresse e-mail valide.</translation>
    </message>
    <message>
        <source>No SMTP password is stored for this profile: enter it in File → Settings… → E-mail.</source>
        <translation>Aucun mot de passe SMTP n’est enregistré pour ce profil&#xa0;: saisissez-le dans Fichier → Paramètres… → E-mail.</translation>
    </message>
    <message>
        <source>The e-mail settings are not complete: {problem}</source>
        <translation>Les réglages d’e-mail sont incomplets&#xa0;: {problem}</translation>
    </message>
    <message>
        <source>The SMTP server refused the user name or password ({detail}). Check them in File → Settings… → E-mail.</source>
        <translation>Le serveur SMTP a refusé le nom d’utilisateur ou le mot de passe ({detail}). Vérifiez-les dans Fichier → Paramètres… → E-mail.</translation>
    </message>
    <message>
        <source>The SMTP server {server} cannot be reached ({detail}).</source>
        <translation>Le serveur SMTP {server} est injoignable ({detail}).</translation>
    </message>
    <message>
        <source>The SMTP server {server} did not answer in time.</source>
        <translation>Le serveur SMTP {server} n’a pas répondu à temps.</translation>
    </message>
    <message>
        <source>No secure connection could be made to the SMTP server {server}: {detail}. If your team uses its own certificate authority, choose its file under “Trust this CA file” in File → Settings… → E-mail.</source>
        <translation>Aucune connexion sécurisée n’a pu être établie avec le serveur SMTP {server}&#xa0;: {detail}. Si votre équipe utilise sa propre autorité de certification, choisissez son fichier dans «&#xa0;Faire confiance au fichier d’AC&#xa0;» sous Fichier → Paramètres… → E-mail.</translation>
    </message>
    <message>
        <source>The SMTP server refused the address {address} ({detail}).</source>
        <translation>Le serveur SMTP a refusé l’adresse {address} ({detail}).</translation>
    </message>
    <message>
        <source>The SMTP server refused the sender&apos;s address ({detail}): check it in File → Settings… → E-mail.</source>
        <translation>Le serveur SMTP a refusé l’adresse de l’expéditeur ({detail})&#xa0;: vérifiez-la dans Fichier → Paramètres… → E-mail.</translation>
    </message>
    <message>
        <source>The SMTP server refused the message ({detail}).</source>
        <translation>Le serveur SMTP a refusé le message ({detail}).</translation>
    </message>
    <message>
        <source>This pull has no card to send.</source>
        <translation>Cette émission n’a pas de carte à envoyer.</translation>
    </message>
    <message>
        <source>The e-mail could not be sent ({detail}).</source>
        <translation>L’e-mail n’a pas pu être envoyé ({detail}).</translation>
    </message>
    <message>
        <source>The SMTP password cannot be read from the system keyring ({reason}).</source>
        <translation>Le mot de passe SMTP ne peut pas être lu dans le trousseau du système ({reason}).</translation>
    </message>
    <message>
        <source>The e-mail could not be sent (unexpected error; see the log).</source>
        <translation>L’e-mail n’a pas pu être envoyé (erreur inattendue&#xa0;; voir le journal).</translation>
    </message>
    <message>
        <source>user name or password refused</source>
        <translation>nom d’utilisateur ou mot de passe refusé</translation>
    </message>
    <message>
        <source>server unreachable</source>
        <translation>serveur injoignable</translation>
    </message>
    <message>
        <source>no answer from the server</source>
        <translation>pas de réponse du serveur</translation>
    </message>
    <message>
        <source>no secure connection</source>
        <translation>pas de connexion sécurisée</translation>
    </message>
    <message>
        <source>address refused</source>
        <translation>adresse refusée</translation>
    </message>
    <message>
        <source>sender&apos;s address refused</source>
        <translation>adresse de l’expéditeur refusée</translation>
    </message>
    <message>
        <source>message refused</source>
        <translation>message refusé</translation>
    </message>
    <message>
        <source>not sent</source>
        <translation>non envoyé</translation>
    </message>
    <message>
        <source>Not e-mailed yet.</source>
        <translation>Pas encore envoyée par e-mail.</translation>
    </message>
    <message>
        <source>E-mailed to {address} on {when} by {agent}.</source>
        <translation>Envoyée par e-mail à {address} le {when} par {agent}.</translation>
    </message>
    <message>
        <source>E-mail to {address} failed on {when}: {reason}.</source>
        <translation>Échec de l’e-mail à {address} le {when}&#xa0;: {reason}.</translation>
    </message>
    <message>
        <source>E-mail: looking up…</source>
        <translation>E-mail&#xa0;: recherche…</translation>
    </message>
    <message>
        <source>This card is being e-mailed already.</source>
        <translation>Cette carte est déjà en cours d’envoi par e-mail.</translation>
    </message>
    <message>
        <source>Sending the card to {address}…</source>
        <translation>Envoi de la carte à {address}…</translation>
    </message>
    <message>
        <source>The card was e-mailed to {address}.</source>
        <translation>La carte a été envoyée par e-mail à {address}.</translation>
    </message>
</context>
<context>
    <name>DeliveryController</name>
    <message>
        <source>Gift card {request_id}</source>
        <translation>Carte cadeau {request_id}</translation>
    </message>
    <message>
        <source>Print the card</source>
        <translation>Imprimer la carte</translation>
    </message>
    <message>
        <source>Printing cancelled: nothing was printed.</source>
        <translation>Impression annulée&#xa0;: rien n’a été imprimé.</translation>
    </message>
    <message>
        <source>Preparing the card for the printer…</source>
        <translation>Préparation de la carte pour l’imprimante…</translation>
    </message>
    <message numerus="yes">
        <source>The card was sent to the printer (%n page(s)).</source>
        <translation>
            <numerusform>La carte a été envoyée à l’imprimante (%n page).</numerusform>
            <numerusform>La carte a été envoyée à l’imprimante (%n pages).</numerusform>
        </translation>
    </message>
    <message>
        <source>The card was not printed: {reason}</source>
        <translation>La carte n’a pas été imprimée&#xa0;: {reason}</translation>
    </message>
</context>
<context>
    <name>EmailCardDialog</name>
    <message>
        <source>E-mail the card to the customer</source>
        <translation>Envoyer la carte au client par e-mail</translation>
    </message>
    <message>
        <source>customer@example.com</source>
        <translation>client@exemple.fr</translation>
    </message>
    <message>
        <source>French</source>
        <translation>Français</translation>
    </message>
    <message>
        <source>English</source>
        <translation>Anglais</translation>
    </message>
    <message>
        <source>Customer&apos;s &amp;e-mail address</source>
        <translation>&amp;Adresse e-mail du client</translation>
    </message>
    <message>
        <source>&amp;Language of the e-mail</source>
        <translation>&amp;Langue de l’e-mail</translation>
    </message>
    <message>
        <source>From {sender}, through {server}</source>
        <translation>De {sender}, via {server}</translation>
    </message>
    <message>
        <source>The e-mail the customer will receive</source>
        <translation>L’e-mail que recevra le client</translation>
    </message>
    <message>
        <source>The code and the PIN are hidden here, as in the card pane; the customer receives them in full.</source>
        <translation>Le code et le PIN sont masqués ici, comme dans le volet de la carte&#xa0;; le client les reçoit en entier.</translation>
    </message>
    <message>
        <source>Attached: the card&apos;s PDF (it shows the code too).</source>
        <translation>En pièce jointe&#xa0;: le PDF de la carte (il montre aussi le code).</translation>
    </message>
    <message>
        <source>No PDF is attached: the e-mail carries the code and the PIN.</source>
        <translation>Aucun PDF n’est joint&#xa0;: l’e-mail contient le code et le PIN.</translation>
    </message>
    <message>
        <source>&amp;Send</source>
        <translation>&amp;Envoyer</translation>
    </message>
    <message>
        <source>Subject: %s</source>
        <translation>Objet&#xa0;: %s</translation>
    </message>
</context>
<context>
    <name>ExportDialog</name>
    <message>
        <source>Export history</source>
        <translation>Exporter l’historique</translation>
    </message>
    <message>
        <source>No pull matches the current filters: the file will only have its header row.</source>
        <translation>Aucune émission ne correspond aux filtres actuels&#xa0;: le fichier n’aura que sa ligne d’en-tête.</translation>
    </message>
    <message>
        <source>{rows} pulls match the current filters; they are exported in the order shown.</source>
        <translation>{rows} émissions correspondent aux filtres actuels&#xa0;; elles sont exportées dans l’ordre affiché.</translation>
    </message>
    <message>
        <source>Standard (comma, ISO 8601 dates in UTC)</source>
        <translation>Standard (virgule, dates ISO 8601 en UTC)</translation>
    </message>
    <message>
        <source>Excel (France): semicolon, decimal comma, dd/mm/yyyy</source>
        <translation>Excel (France)&#xa0;: point-virgule, virgule décimale, jj/mm/aaaa</translation>
    </message>
    <message>
        <source>Excel workbook (.xlsx): typed numbers, dates and codes, with totals</source>
        <translation>Classeur Excel (.xlsx)&#xa0;: nombres, dates et codes typés, avec totaux</translation>
    </message>
    <message>
        <source>Include full codes and PINs</source>
        <translation>Inclure les codes et PIN complets</translation>
    </message>
    <message>
        <source>Anyone with the file can spend the cards. The export is logged.</source>
        <translation>Toute personne disposant du fichier peut utiliser les cartes. L’export est journalisé.</translation>
    </message>
    <message>
        <source>Browse…</source>
        <translation>Parcourir…</translation>
    </message>
    <message>
        <source>Export</source>
        <translation>Exporter</translation>
    </message>
    <message>
        <source>Format:</source>
        <translation>Format&#xa0;:</translation>
    </message>
    <message>
        <source>Save as:</source>
        <translation>Enregistrer sous&#xa0;:</translation>
    </message>
    <message>
        <source>Counting the pulls that match the current filters…</source>
        <translation>Décompte des émissions qui correspondent aux filtres actuels…</translation>
    </message>
    <message>
        <source>1 pull matches the current filters.</source>
        <translation>1 émission correspond aux filtres actuels.</translation>
    </message>
    <message>
        <source>Choose where to save the file.</source>
        <translation>Choisissez où enregistrer le fichier.</translation>
    </message>
    <message>
        <source>The folder {folder} does not exist.</source>
        <translation>Le dossier {folder} n’existe pas.</translation>
    </message>
    <message>
        <source>Exporting…</source>
        <translation>Export en cours…</translation>
    </message>
    <message>
        <source>Cancelling…</source>
        <translation>Annulation…</translation>
    </message>
    <message>
        <source>Excel workbooks (*.xlsx)</source>
        <translation>Classeurs Excel (*.xlsx)</translation>
    </message>
    <message>
        <source>CSV files (*.csv)</source>
        <translation>Fichiers CSV (*.csv)</translation>
    </message>
    <message>
        <source>Include full codes and PINs?</source>
        <translation>Inclure les codes et PIN complets&#xa0;?</translation>
    </message>
    <message>
        <source>The file will hold every card&apos;s full code and PIN: anyone who gets it can spend the cards. The export is recorded in the history&apos;s event log under your name.

Include the codes?</source>
        <translation>Le fichier contiendra le code et le PIN complets de chaque carte&#xa0;: toute personne qui l’obtient peut utiliser les cartes. L’export est enregistré à votre nom dans le journal des événements de l’historique.

Inclure les codes&#xa0;?</translation>
    </message>
    <message>
        <source>Export cancelled; no file was written.</source>
        <translation>Export annulé&#xa0;; aucun fichier n’a été écrit.</translation>
    </message>
    <message>
        <source>{rows} rows written to {path}</source>
        <translation>{rows} ligne(s) écrite(s) dans {path}</translation>
    </message>
    <message>
        <source>The export failed: {reason}</source>
        <translation>L’export a échoué&#xa0;: {reason}</translation>
    </message>
    <message>
        <source>Close</source>
        <translation>Fermer</translation>
    </message>
</context>
<context>
    <name>HistoryFilters</name>
    <message>
        <source>Period</source>
        <translation>Période</translation>
    </message>
    <message>
        <source>All time</source>
        <translation>Toute la période</translation>
    </message>
    <message>
        <source>Today</source>
        <translation>Aujourd’hui</translation>
    </message>
    <message>
        <source>This week</source>
        <translation>Cette semaine</translation>
    </message>
    <message>
        <source>This month</source>
        <translation>Ce mois-ci</translation>
    </message>
    <message>
        <source>Last month</source>
        <translation>Le mois dernier</translation>
    </message>
    <message>
        <source>Custom…</source>
        <translation>Personnalisée…</translation>
    </message>
    <message>
        <source>From date</source>
        <translation>Date de début</translation>
    </message>
    <message>
        <source>To date</source>
        <translation>Date de fin</translation>
    </message>
    <message>
        <source>First day (included)</source>
        <translation>Premier jour (inclus)</translation>
    </message>
    <message>
        <source>Last day (included)</source>
        <translation>Dernier jour (inclus)</translation>
    </message>
    <message>
        <source>Brand</source>
        <translation>Enseigne</translation>
    </message>
    <message>
        <source>All brands</source>
        <translation>Toutes les enseignes</translation>
    </message>
    <message>
        <source>Status</source>
        <translation>État</translation>
    </message>
    <message>
        <source>All statuses</source>
        <translation>Tous les états</translation>
    </message>
    <message>
        <source>Issued</source>
        <translation>Émises</translation>
    </message>
    <message>
        <source>Failed</source>
        <translation>Échouées</translation>
    </message>
    <message>
        <source>In doubt</source>
        <translation>Incertaines</translation>
    </message>
    <message>
        <source>Pending</source>
        <translation>En attente</translation>
    </message>
    <message>
        <source>Agent</source>
        <translation>Agent</translation>
    </message>
    <message>
        <source>All agents</source>
        <translation>Tous les agents</translation>
    </message>
    <message>
        <source>Search</source>
        <translation>Recherche</translation>
    </message>
    <message>
        <source>Search request ID, reference, note, brand or card code (last 4+ digits)</source>
        <translation>Rechercher un ID de requête, une référence, une note, une marque ou un code de carte (4 derniers chiffres ou plus)</translation>
    </message>
    <message>
        <source>Clear</source>
        <translation>Effacer</translation>
    </message>
    <message>
        <source>Show the whole history again</source>
        <translation>Réafficher tout l’historique</translation>
    </message>
    <message>
        <source>The list still shows the period before.</source>
        <translation>La liste montre toujours la période précédente.</translation>
    </message>
</context>
<context>
    <name>HistoryModel</name>
    <message>
        <source>Date</source>
        <translation>Date</translation>
    </message>
    <message>
        <source>Agent</source>
        <translation>Agent</translation>
    </message>
    <message>
        <source>Reference</source>
        <translation>Référence</translation>
    </message>
    <message>
        <source>Brand</source>
        <translation>Enseigne</translation>
    </message>
    <message>
        <source>Amount</source>
        <translation>Montant</translation>
    </message>
    <message>
        <source>Cost</source>
        <translation>Coût</translation>
    </message>
    <message>
        <source>Status</source>
        <translation>État</translation>
    </message>
    <message>
        <source>Request ID</source>
        <translation>ID de requête</translation>
    </message>
    <message>
        <source>Walleo card ID</source>
        <translation>ID de carte Walleo</translation>
    </message>
    <message>
        <source>Code</source>
        <translation>Code</translation>
    </message>
    <message>
        <source>Expires</source>
        <translation>Expiration</translation>
    </message>
    <message>
        <source>Note: {note}</source>
        <translation>Note&#xa0;: {note}</translation>
    </message>
    <message>
        <source>No card was issued: nothing was charged</source>
        <translation>Aucune carte n’a été émise&#xa0;: rien n’a été facturé</translation>
    </message>
    <message>
        <source>Face value less the partner discount ({discount} %)</source>
        <translation>Valeur faciale moins la remise partenaire ({discount}&#xa0;%)</translation>
    </message>
</context>
<context>
    <name>HistoryView</name>
    <message>
        <source>Pull history</source>
        <translation>Historique des émissions</translation>
    </message>
    <message>
        <source>Export…</source>
        <translation>Exporter…</translation>
    </message>
    <message>
        <source>Totals per brand</source>
        <translation>Totaux par enseigne</translation>
    </message>
    <message>
        <source>Brand</source>
        <translation>Enseigne</translation>
    </message>
    <message>
        <source>Cards</source>
        <translation>Cartes</translation>
    </message>
    <message>
        <source>Face value</source>
        <translation>Valeur faciale</translation>
    </message>
    <message>
        <source>Cost</source>
        <translation>Coût</translation>
    </message>
    <message>
        <source>Loading…</source>
        <translation>Chargement…</translation>
    </message>
    <message>
        <source>1 pull</source>
        <translation>1 émission</translation>
    </message>
    <message>
        <source>{count} pulls</source>
        <translation>{count} émissions</translation>
    </message>
    <message>
        <source>No pulls match</source>
        <translation>Aucune émission ne correspond</translation>
    </message>
    <message>
        <source>Write the rows shown to a CSV or XLSX file</source>
        <translation>Enregistrer les lignes affichées dans un fichier CSV ou XLSX</translation>
    </message>
    <message>
        <source>Could not read the history: {reason}</source>
        <translation>Impossible de lire l’historique&#xa0;: {reason}</translation>
    </message>
    <message>
        <source>&lt;b&gt;{count}&lt;/b&gt; card issued · face value &lt;b&gt;{face}&lt;/b&gt; · cost &lt;b&gt;{cost}&lt;/b&gt;</source>
        <translation>&lt;b&gt;{count}&lt;/b&gt; carte émise · valeur faciale &lt;b&gt;{face}&lt;/b&gt; · coût &lt;b&gt;{cost}&lt;/b&gt;</translation>
    </message>
    <message>
        <source>&lt;b&gt;{count}&lt;/b&gt; cards issued · face value &lt;b&gt;{face}&lt;/b&gt; · cost &lt;b&gt;{cost}&lt;/b&gt;</source>
        <translation>&lt;b&gt;{count}&lt;/b&gt; cartes émises · valeur faciale &lt;b&gt;{face}&lt;/b&gt; · coût &lt;b&gt;{cost}&lt;/b&gt;</translation>
    </message>
    <message>
        <source>&lt;span style=&quot;color:#d93025&quot;&gt;{n} failed&lt;/span&gt;</source>
        <translation>&lt;span style=&quot;color:#d93025&quot;&gt;{n} en échec&lt;/span&gt;</translation>
    </message>
    <message>
        <source>&lt;span style=&quot;color:#e37400&quot;&gt;{n} in doubt&lt;/span&gt;</source>
        <translation>&lt;span style=&quot;color:#e37400&quot;&gt;{n} incertaine(s)&lt;/span&gt;</translation>
    </message>
    <message>
        <source>{n} pending</source>
        <translation>{n} en attente</translation>
    </message>
</context>
<context>
    <name>MainWindow</name>
    <message>
        <source>{app} — {environment}</source>
        <translation>{app} — {environment}</translation>
    </message>
    <message>
        <source>DEMO</source>
        <translation>DÉMO</translation>
    </message>
    <message>
        <source>&amp;Live pulls</source>
        <translation>En &amp;cours</translation>
    </message>
    <message>
        <source>H&amp;istory</source>
        <translation>H&amp;istorique</translation>
    </message>
    <message>
        <source>Bulk order from a file…</source>
        <translation>Commande groupée depuis un fichier…</translation>
    </message>
    <message>
        <source>Catalog from cache — refreshing…</source>
        <translation>Catalogue en cache — actualisation…</translation>
    </message>
    <message>
        <source>Connecting…</source>
        <translation>Connexion…</translation>
    </message>
    <message>
        <source>&amp;File</source>
        <translation>&amp;Fichier</translation>
    </message>
    <message>
        <source>&amp;Settings…</source>
        <translation>&amp;Paramètres…</translation>
    </message>
    <message>
        <source>&amp;Quit</source>
        <translation>&amp;Quitter</translation>
    </message>
    <message>
        <source>&amp;Team…</source>
        <translation>É&amp;quipe…</translation>
    </message>
    <message>
        <source>Share one history with a team: join, create, invite, approve</source>
        <translation>Partager un historique avec une équipe : rejoindre, créer, inviter, approuver</translation>
    </message>
    <message>
        <source>&amp;Pulls</source>
        <translation>É&amp;missions</translation>
    </message>
    <message>
        <source>&amp;New pull</source>
        <translation>&amp;Nouvelle émission</translation>
    </message>
    <message>
        <source>&amp;Check now</source>
        <translation>&amp;Vérifier maintenant</translation>
    </message>
    <message>
        <source>Ask Walleo about the selected pull now</source>
        <translation>Interroger Walleo maintenant sur l’émission sélectionnée</translation>
    </message>
    <message>
        <source>&amp;Retry as new pull…</source>
        <translation>&amp;Réessayer avec une nouvelle émission…</translation>
    </message>
    <message>
        <source>Send a new pull for a pull that ended in error or was rejected</source>
        <translation>Envoyer une nouvelle émission pour une émission en erreur ou refusée</translation>
    </message>
    <message>
        <source>Copy request &amp;ID</source>
        <translation>Copier l’&amp;identifiant de requête</translation>
    </message>
    <message>
        <source>&amp;Bulk order from a file…</source>
        <translation>&amp;Commande groupée depuis un fichier…</translation>
    </message>
    <message>
        <source>Close &amp;shift…</source>
        <translation>&amp;Clôturer le poste…</translation>
    </message>
    <message>
        <source>Count this shift&apos;s pulls per brand, store the report, save or print it</source>
        <translation>Compter les émissions du poste par enseigne, enregistrer le rapport, le sauvegarder ou l’imprimer</translation>
    </message>
    <message>
        <source>&amp;View</source>
        <translation>&amp;Affichage</translation>
    </message>
    <message>
        <source>&amp;History</source>
        <translation>&amp;Historique</translation>
    </message>
    <message>
        <source>&amp;Search the history</source>
        <translation>&amp;Rechercher dans l’historique</translation>
    </message>
    <message>
        <source>&amp;Export the history…</source>
        <translation>&amp;Exporter l’historique…</translation>
    </message>
    <message>
        <source>&amp;Help</source>
        <translation>&amp;Aide</translation>
    </message>
    <message>
        <source>&amp;About {app}…</source>
        <translation>À &amp;propos de {app}…</translation>
    </message>
    <message numerus="yes">
        <source>Resuming %n unfinished pull(s) from the last session.</source>
        <translation>
            <numerusform>Reprise de %n émission inachevée de la session précédente.</numerusform>
            <numerusform>Reprise de %n émissions inachevées de la session précédente.</numerusform>
        </translation>
    </message>
    <message>
        <source>Team history: review and export; no card is issued here</source>
        <translation>Historique de l’équipe : contrôle et export ; aucune carte n’est émise ici</translation>
    </message>
    <message>
        <source>Checking the history after an unexpected stop…</source>
        <translation>Vérification de l&apos;historique après un arrêt inattendu…</translation>
    </message>
    <message>
        <source>The history file is damaged ({problems}). Nothing was changed; restore it from a backup, or ask for help before issuing more cards.</source>
        <translation>Le fichier d&apos;historique est endommagé ({problems}). Rien n&apos;a été modifié ; restaurez-le depuis une sauvegarde, ou demandez de l&apos;aide avant d&apos;émettre d&apos;autres cartes.</translation>
    </message>
    <message>
        <source>History checked after an unexpected stop: no damage.</source>
        <translation>Historique vérifié après un arrêt inattendu : aucun dommage.</translation>
    </message>
    <message>
        <source>Connected</source>
        <translation>Connecté</translation>
    </message>
    <message>
        <source>Walleo refused: {reason}</source>
        <translation>Refus de Walleo&#xa0;: {reason}</translation>
    </message>
    <message>
        <source>Walleo unreachable: {reason}</source>
        <translation>Walleo injoignable&#xa0;: {reason}</translation>
    </message>
    <message>
        <source>1 pull is still in progress.</source>
        <translation>1 émission est encore en cours.</translation>
    </message>
    <message>
        <source>{count} pulls are still in progress.</source>
        <translation>{count} émissions sont encore en cours.</translation>
    </message>
    <message>
        <source>Quit {app}</source>
        <translation>Quitter {app}</translation>
    </message>
    <message>
        <source>They are safe: they stay in the journal and resume the next time you start {app}. Quit now?</source>
        <translation>Elles ne risquent rien&#xa0;: elles restent dans le journal et reprendront au prochain démarrage de {app}. Quitter maintenant&#xa0;?</translation>
    </message>
    <message>
        <source>Issuing {count} × {brand} {amount}…</source>
        <translation>Émission de {count} × {brand} {amount}…</translation>
    </message>
    <message>
        <source>The history can be used again; pulls go on.</source>
        <translation>L’historique est de nouveau utilisable ; les émissions reprennent.</translation>
    </message>
    <message>
        <source>{problem}
New pulls cannot be journaled meanwhile, so none is sent; pulls already sent keep their state and go on by themselves when it is back.</source>
        <translation>{problem}
En attendant, aucune nouvelle émission ne peut être journalisée, donc aucune n’est envoyée ; celles déjà envoyées gardent leur état et reprennent d’elles-mêmes à son retour.</translation>
    </message>
    <message>
        <source>Checking {request_id} now…</source>
        <translation>Vérification de {request_id} en cours…</translation>
    </message>
    <message>
        <source>This pull is not being checked right now.</source>
        <translation>Cette émission n’est pas en cours de vérification.</translation>
    </message>
    <message>
        <source>Retry as a new pull</source>
        <translation>Réessayer avec une nouvelle émission</translation>
    </message>
    <message>
        <source>Send a new pull for {brand} {amount}?</source>
        <translation>Envoyer une nouvelle émission pour {brand} {amount}&#xa0;?</translation>
    </message>
    <message>
        <source>The failed pull stays in the history; the new one gets a new request ID.</source>
        <translation>L’émission échouée reste dans l’historique&#xa0;; la nouvelle reçoit un nouvel identifiant de requête.</translation>
    </message>
    <message>
        <source>Retrying as a new pull ({request_id}).</source>
        <translation>Nouvelle tentative avec une nouvelle émission ({request_id}).</translation>
    </message>
    <message>
        <source>The retry could not be sent. The details are in the log.</source>
        <translation>La nouvelle tentative n&apos;a pas pu être envoyée. Les détails sont dans le journal.</translation>
    </message>
    <message>
        <source>This pull was already retried as {request_id}: showing the retry.</source>
        <translation>Cette demande a déjà été relancée ({request_id}) : voici la relance.</translation>
    </message>
    <message>
        <source>Request ID copied.</source>
        <translation>Identifiant de requête copié.</translation>
    </message>
</context>
<context>
    <name>PdfPanel</name>
    <message>
        <source>Show PDF</source>
        <translation>Afficher le PDF</translation>
    </message>
    <message>
        <source>The PDF shows the card&apos;s code in clear.</source>
        <translation>Le PDF montre le code de la carte en clair.</translation>
    </message>
    <message>
        <source>Save PDF as…</source>
        <translation>Enregistrer le PDF sous…</translation>
    </message>
    <message>
        <source>Open in system viewer</source>
        <translation>Ouvrir dans la visionneuse du système</translation>
    </message>
    <message>
        <source>The PDF shows the card&apos;s code. Press “Show PDF” to see it.</source>
        <translation>Le PDF montre le code de la carte. Cliquez sur «&#xa0;Afficher le PDF&#xa0;» pour le voir.</translation>
    </message>
    <message>
        <source>Loading the card&apos;s PDF</source>
        <translation>Chargement du PDF de la carte</translation>
    </message>
    <message>
        <source>Loading PDF…</source>
        <translation>Chargement du PDF…</translation>
    </message>
    <message>
        <source>Try again</source>
        <translation>Réessayer</translation>
    </message>
    <message>
        <source>No card selected.</source>
        <translation>Aucune carte sélectionnée.</translation>
    </message>
    <message>
        <source>No PDF is available for this card.</source>
        <translation>Aucun PDF n’est disponible pour cette carte.</translation>
    </message>
    <message>
        <source>The PDF cannot be loaded right now.</source>
        <translation>Le PDF ne peut pas être chargé pour le moment.</translation>
    </message>
    <message>
        <source>The PDF could not be downloaded: %s</source>
        <translation>Le PDF n’a pas pu être téléchargé&#xa0;: %s</translation>
    </message>
    <message>
        <source>The card&apos;s PDF is not available: %s</source>
        <translation>Le PDF de la carte n’est pas disponible&#xa0;: %s</translation>
    </message>
    <message>
        <source>The card&apos;s PDF could not be read: %s</source>
        <translation>Le PDF de la carte n’a pas pu être lu&#xa0;: %s</translation>
    </message>
    <message>
        <source>The PDF could not be loaded (unexpected error; see the log).</source>
        <translation>Le PDF n’a pas pu être chargé (erreur inattendue&#xa0;; voir le journal).</translation>
    </message>
    <message>
        <source>the file is missing</source>
        <translation>le fichier est introuvable</translation>
    </message>
    <message>
        <source>the file is not a valid PDF</source>
        <translation>le fichier n’est pas un PDF valide</translation>
    </message>
    <message>
        <source>the file is password-protected</source>
        <translation>le fichier est protégé par un mot de passe</translation>
    </message>
    <message>
        <source>unknown error</source>
        <translation>erreur inconnue</translation>
    </message>
    <message>
        <source>The PDF could not be opened: %s.</source>
        <translation>Le PDF n’a pas pu être ouvert&#xa0;: %s.</translation>
    </message>
    <message numerus="yes">
        <source>Card PDF · %n page(s)</source>
        <translation>
            <numerusform>PDF de la carte · %n page</numerusform>
            <numerusform>PDF de la carte · %n pages</numerusform>
        </translation>
    </message>
    <message>
        <source>Card PDF · 1 page</source>
        <translation>PDF de la carte · 1 page</translation>
    </message>
    <message>
        <source>Card PDF</source>
        <translation>PDF de la carte</translation>
    </message>
    <message>
        <source>Hide PDF</source>
        <translation>Masquer le PDF</translation>
    </message>
    <message>
        <source>The PDF was handed to the system&apos;s PDF viewer.</source>
        <translation>Le PDF a été transmis à la visionneuse PDF du système.</translation>
    </message>
    <message>
        <source>No PDF viewer could be opened on this computer; use Save PDF as… instead.</source>
        <translation>Aucune visionneuse PDF n’a pu être ouverte sur cet ordinateur&#xa0;; utilisez plutôt Enregistrer le PDF sous…</translation>
    </message>
    <message>
        <source>Save the card&apos;s PDF</source>
        <translation>Enregistrer le PDF de la carte</translation>
    </message>
    <message>
        <source>PDF files (*.pdf)</source>
        <translation>Fichiers PDF (*.pdf)</translation>
    </message>
    <message>
        <source>That is the app&apos;s own copy of the PDF: choose another place.</source>
        <translation>Il s’agit de la copie du PDF propre à l’application&#xa0;: choisissez un autre emplacement.</translation>
    </message>
    <message>
        <source>The PDF could not be saved: %s</source>
        <translation>Le PDF n’a pas pu être enregistré&#xa0;: %s</translation>
    </message>
    <message>
        <source>PDF saved to %s</source>
        <translation>PDF enregistré dans %s</translation>
    </message>
</context>
<context>
    <name>PullForm</name>
    <message>
        <source>New pull</source>
        <translation>Nouvelle émission</translation>
    </message>
    <message>
        <source>Loading the catalog…</source>
        <translation>Chargement du catalogue…</translation>
    </message>
    <message>
        <source>Favourite brand</source>
        <translation>Enseigne favorite</translation>
    </message>
    <message>
        <source>Keep this brand at the top of the list</source>
        <translation>Garder cette enseigne en tête de liste</translation>
    </message>
    <message>
        <source>Choose or type an amount</source>
        <translation>Choisir ou taper un montant</translation>
    </message>
    <message>
        <source>Amount</source>
        <translation>Montant</translation>
    </message>
    <message>
        <source>Customer or ticket</source>
        <translation>Référence client ou ticket</translation>
    </message>
    <message>
        <source>Optional</source>
        <translation>Facultatif</translation>
    </message>
    <message>
        <source>&amp;Issue…</source>
        <translation>Éme&amp;ttre…</translation>
    </message>
    <message>
        <source>Review, then confirm with Enter</source>
        <translation>Vérifier, puis confirmer avec Entrée</translation>
    </message>
    <message>
        <source>Enter reviews the pull; Enter again issues it. Escape cancels.</source>
        <translation>Entrée affiche le récapitulatif&#xa0;; Entrée à nouveau émet la carte. Échap annule.</translation>
    </message>
    <message>
        <source>&amp;Brand</source>
        <translation>&amp;Enseigne</translation>
    </message>
    <message>
        <source>&amp;Amount</source>
        <translation>M&amp;ontant</translation>
    </message>
    <message>
        <source>&amp;Quantity</source>
        <translation>&amp;Quantité</translation>
    </message>
    <message>
        <source>&amp;Reference</source>
        <translation>&amp;Référence</translation>
    </message>
    <message>
        <source>&amp;Note</source>
        <translation>&amp;Note</translation>
    </message>
    <message>
        <source>Yes, issue</source>
        <translation>Oui, émettre</translation>
    </message>
    <message>
        <source>Enter</source>
        <translation>Entrée</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>Annuler</translation>
    </message>
    <message>
        <source>Escape</source>
        <translation>Échap</translation>
    </message>
    <message numerus="yes">
        <source>Type to search %n brand(s)</source>
        <translation>
            <numerusform>Rechercher parmi %n enseigne</numerusform>
            <numerusform>Rechercher parmi %n enseignes</numerusform>
        </translation>
    </message>
    <message>
        <source>No gift cards available yet</source>
        <translation>Aucune carte cadeau disponible pour l’instant</translation>
    </message>
    <message>
        <source>Last amount for {brand}: a suggestion; type to replace it.</source>
        <translation>Dernier montant pour {brand} : une suggestion ; tapez pour le remplacer.</translation>
    </message>
    <message>
        <source>Your discount: {discount} %</source>
        <translation>Votre remise&#xa0;: {discount}&#xa0;%</translation>
    </message>
    <message>
        <source>No amount can be issued</source>
        <translation>Aucun montant ne peut être émis</translation>
    </message>
    <message>
        <source>Amounts: {amounts}</source>
        <translation>Montants&#xa0;: {amounts}</translation>
    </message>
    <message>
        <source>From {low} to {high}, in steps of {step}</source>
        <translation>De {low} à {high}, par pas de {step}</translation>
    </message>
    <message>
        <source>Any amount from {low} to {high}</source>
        <translation>Tout montant de {low} à {high}</translation>
    </message>
    <message>
        <source>Any amount</source>
        <translation>Tout montant</translation>
    </message>
    <message>
        <source>Type an amount.</source>
        <translation>Tapez un montant.</translation>
    </message>
    <message>
        <source>Type the amount in whole {currency}, in digits: 50, for instance.</source>
        <translation>Tapez le montant en {currency} entiers, en chiffres&#xa0;: 50, par exemple.</translation>
    </message>
    <message>
        <source>{brand} lists no amount that can be issued.</source>
        <translation>{brand} ne propose aucun montant pouvant être émis.</translation>
    </message>
    <message>
        <source>{brand} is issued in {amounts} only.</source>
        <translation>{brand} s’émet uniquement en {amounts}.</translation>
    </message>
    <message>
        <source>The smallest amount for {brand} is {low}.</source>
        <translation>Le plus petit montant pour {brand} est {low}.</translation>
    </message>
    <message>
        <source>The largest amount for {brand} is {high}.</source>
        <translation>Le plus grand montant pour {brand} est {high}.</translation>
    </message>
    <message>
        <source>{brand} is issued in steps of {step}: {options}, for instance.</source>
        <translation>{brand} s’émet par paliers de {step}&#xa0;: {options}, par exemple.</translation>
    </message>
    <message>
        <source>{first} or {last}</source>
        <translation>{first} ou {last}</translation>
    </message>
    <message>
        <source>Type how many cards to issue.</source>
        <translation>Tapez le nombre de cartes à émettre.</translation>
    </message>
    <message>
        <source>Type the number of cards in digits: 1, 2, 3…</source>
        <translation>Tapez le nombre de cartes en chiffres&#xa0;: 1, 2, 3…</translation>
    </message>
    <message>
        <source>Issue at least 1 card.</source>
        <translation>Émettez au moins 1 carte.</translation>
    </message>
    <message>
        <source>At most {max} cards in one pull.</source>
        <translation>{max} cartes au plus par émission.</translation>
    </message>
    <message>
        <source>Total: {count} × {amount} = {total}</source>
        <translation>Total&#xa0;: {count} × {amount} = {total}</translation>
    </message>
    <message>
        <source>Checking stock…</source>
        <translation>Vérification du stock…</translation>
    </message>
    <message>
        <source>Stock unknown</source>
        <translation>Stock inconnu</translation>
    </message>
    <message>
        <source>In stock: {count} of {amount}</source>
        <translation>En stock&#xa0;: {count} de {amount}</translation>
    </message>
    <message>
        <source>Issued on demand</source>
        <translation>Émise à la demande</translation>
    </message>
    <message>
        <source>Issued on demand, up to {available}</source>
        <translation>Émise à la demande, jusqu’à {available}</translation>
    </message>
    <message>
        <source>Out of stock at {amount}</source>
        <translation>Rupture de stock à {amount}</translation>
    </message>
    <message>
        <source>Pick a brand from the list.</source>
        <translation>Choisissez une enseigne dans la liste.</translation>
    </message>
    <message>
        <source>The catalog is not loaded yet.</source>
        <translation>Le catalogue n’est pas encore chargé.</translation>
    </message>
    <message>
        <source>The pull could not be journaled; nothing was sent. See the log.</source>
        <translation>La demande n&apos;a pas pu être enregistrée ; rien n&apos;a été envoyé. Voir le journal.</translation>
    </message>
    <message>
        <source>Issue this again?</source>
        <translation>Émettre à nouveau ?</translation>
    </message>
    <message>
        <source>{brand} {amount} for reference “{reference}” was already pulled {count} time(s) in the last 24 hours, first on {when} by {agent}.</source>
        <translation>{brand} {amount} pour la référence « {reference} » a déjà été émise {count} fois au cours des dernières 24 heures, la première fois le {when} par {agent}.</translation>
    </message>
    <message>
        <source>someone</source>
        <translation>quelqu’un</translation>
    </message>
    <message>
        <source>Issue again</source>
        <translation>Émettre à nouveau</translation>
    </message>
    <message>
        <source>Nothing was sent. Issue again only if the customer should get another card.</source>
        <translation>Rien n’a été envoyé. N’émettez à nouveau que si le client doit recevoir une autre carte.</translation>
    </message>
    <message>
        <source>Not issued: it was already pulled lately.</source>
        <translation>Non émise : elle a déjà été émise récemment.</translation>
    </message>
    <message>
        <source>Choose an amount.</source>
        <translation>Choisissez un montant.</translation>
    </message>
    <message>
        <source>Issue {count} × {brand} {amount} = {total}?</source>
        <translation>Émettre {count} × {brand} {amount} = {total}&#xa0;?</translation>
    </message>
    <message>
        <source>Reference: {reference}</source>
        <translation>Référence&#xa0;: {reference}</translation>
    </message>
</context>
<context>
    <name>PullTable</name>
    <message>
        <source>Status</source>
        <translation>État</translation>
    </message>
    <message>
        <source>Brand</source>
        <translation>Enseigne</translation>
    </message>
    <message>
        <source>Amount</source>
        <translation>Montant</translation>
    </message>
    <message>
        <source>Reference</source>
        <translation>Référence</translation>
    </message>
    <message>
        <source>Request ID</source>
        <translation>ID de requête</translation>
    </message>
    <message>
        <source>Age</source>
        <translation>Âge</translation>
    </message>
    <message>
        <source>Next check</source>
        <translation>Prochaine vérif.</translation>
    </message>
    <message>
        <source>Queued</source>
        <translation>En file</translation>
    </message>
    <message>
        <source>Sending</source>
        <translation>Envoi</translation>
    </message>
    <message>
        <source>In doubt</source>
        <translation>Incertaine</translation>
    </message>
    <message>
        <source>Waiting</source>
        <translation>En attente</translation>
    </message>
    <message>
        <source>Processing</source>
        <translation>En cours</translation>
    </message>
    <message>
        <source>Success</source>
        <translation>Émise</translation>
    </message>
    <message>
        <source>Error</source>
        <translation>Erreur</translation>
    </message>
    <message>
        <source>Rejected</source>
        <translation>Refusée</translation>
    </message>
    <message>
        <source>{state} · overdue</source>
        <translation>{state} · en retard</translation>
    </message>
    <message>
        <source>{n} s</source>
        <translation>{n}&#xa0;s</translation>
    </message>
    <message>
        <source>{n} min</source>
        <translation>{n}&#xa0;min</translation>
    </message>
    <message>
        <source>{n} h</source>
        <translation>{n}&#xa0;h</translation>
    </message>
    <message>
        <source>{n} d</source>
        <translation>{n}&#xa0;j</translation>
    </message>
    <message>
        <source>Walleo has no stock of this card at this amount. Try another amount or brand.</source>
        <translation>Walleo n’a plus de stock de cette carte pour ce montant. Essayez un autre montant ou une autre enseigne.</translation>
    </message>
    <message>
        <source>Your Walleo balance is too low. Top up your account, then retry.</source>
        <translation>Votre solde Walleo est insuffisant. Approvisionnez votre compte, puis réessayez.</translation>
    </message>
    <message>
        <source>Walleo refused the request&apos;s signature. {reason}</source>
        <translation>Walleo a refusé la signature de la requête. {reason}</translation>
    </message>
    <message>
        <source>Walleo refused the request&apos;s signature. Check the profile&apos;s shared key in Settings, then retry.</source>
        <translation>Walleo a refusé la signature de la requête. Vérifiez la clé partagée du profil dans les Paramètres, puis réessayez.</translation>
    </message>
    <message>
        <source>Walleo did not accept the credentials. Check the profile&apos;s credentials in Settings.</source>
        <translation>Walleo n’a pas accepté les identifiants. Vérifiez les identifiants du profil dans les Paramètres.</translation>
    </message>
    <message>
        <source>Walleo refused the amount: {reason} Pick an amount from the list.</source>
        <translation>Walleo a refusé le montant&#xa0;: {reason} Choisissez un montant dans la liste.</translation>
    </message>
    <message>
        <source>it is not one this card accepts.</source>
        <translation>cette carte n’accepte pas ce montant.</translation>
    </message>
    <message>
        <source>Walleo no longer offers this gift card. Refresh the catalog and pick another brand.</source>
        <translation>Walleo ne propose plus cette carte cadeau. Actualisez le catalogue et choisissez une autre enseigne.</translation>
    </message>
    <message>
        <source>{reason} Check the profile in Settings.</source>
        <translation>{reason} Vérifiez le profil dans les Paramètres.</translation>
    </message>
    <message>
        <source>Walleo could not issue this card; nothing was charged. Retry to send a new pull.</source>
        <translation>Walleo n’a pas pu émettre cette carte&#xa0;; rien n’a été facturé. Réessayez pour envoyer une nouvelle émission.</translation>
    </message>
    <message>
        <source>Walleo refused this pull ({reason}). Nothing was created; fix the cause, then retry.</source>
        <translation>Walleo a refusé cette émission ({reason}). Rien n’a été créé&#xa0;; corrigez la cause, puis réessayez.</translation>
    </message>
    <message>
        <source>no reason given</source>
        <translation>aucun motif indiqué</translation>
    </message>
    <message>
        <source>Walleo&apos;s answer was lost; the app is checking whether the card was created. Do not issue it again.</source>
        <translation>La réponse de Walleo a été perdue&#xa0;; l’application vérifie si la carte a été créée. Ne l’émettez pas une seconde fois.</translation>
    </message>
    <message>
        <source>Walleo has not finished this pull for over 30 minutes. The app keeps checking; do not issue it again. If it stays pending, give Walleo support the request ID.</source>
        <translation>Walleo n’a pas terminé cette émission depuis plus de 30 minutes. L’application continue de vérifier&#xa0;; ne l’émettez pas une seconde fois. Si elle reste en attente, communiquez l’identifiant de requête au support Walleo.</translation>
    </message>
    <message>
        <source>Not sent yet: {reason} The app sends it again by itself.</source>
        <translation>Pas encore envoyée&#xa0;: {reason} L’application la renverra d’elle-même.</translation>
    </message>
    <message>
        <source>The last check did not get through ({reason}). The app keeps checking.</source>
        <translation>La dernière vérification n’a pas abouti ({reason}). L’application continue de vérifier.</translation>
    </message>
    <message>
        <source>now</source>
        <translation>maintenant</translation>
    </message>
    <message>
        <source>in {duration}</source>
        <translation>dans {duration}</translation>
    </message>
</context>
<context>
    <name>PullTableView</name>
    <message>
        <source>Live pulls</source>
        <translation>Émissions en cours</translation>
    </message>
</context>
<context>
    <name>SecureClipboard</name>
    <message>
        <source>Text</source>
        <translation>Texte</translation>
    </message>
    <message>
        <source>%s copied.</source>
        <translation>%s copié.</translation>
    </message>
    <message>
        <source>%s copied; the clipboard will be cleared in %s s</source>
        <translation>%s copié&#xa0;; le presse-papiers sera vidé dans %s&#xa0;s</translation>
    </message>
    <message>
        <source>Clipboard cleared.</source>
        <translation>Presse-papiers vidé.</translation>
    </message>
</context>
<context>
    <name>SettingsDialog</name>
    <message>
        <source>Settings — Connection profiles</source>
        <translation>Paramètres — Profils de connexion</translation>
    </message>
    <message>
        <source>Add</source>
        <translation>Ajouter</translation>
    </message>
    <message>
        <source>Delete</source>
        <translation>Supprimer</translation>
    </message>
    <message>
        <source>Profiles</source>
        <translation>Profils</translation>
    </message>
    <message>
        <source>The demo talks to a Walleo simulator built into the app: no real card is issued and no credentials are needed. Its history is kept apart from real pulls.</source>
        <translation>La démo utilise un simulateur Walleo intégré à l’application&#xa0;: aucune vraie carte n’est émise et aucun identifiant n’est nécessaire. Son historique est conservé à part des vraies émissions.</translation>
    </message>
    <message>
        <source>Given by Walleo (often a UUID)</source>
        <translation>Fourni par Walleo (souvent un UUID)</translation>
    </message>
    <message>
        <source>Hexadecimal, given by Walleo</source>
        <translation>Hexadécimale, fournie par Walleo</translation>
    </message>
    <message>
        <source>Show the API key</source>
        <translation>Afficher la clé d’API</translation>
    </message>
    <message>
        <source>Show the shared key</source>
        <translation>Afficher la clé partagée</translation>
    </message>
    <message>
        <source>Show</source>
        <translation>Afficher</translation>
    </message>
    <message>
        <source>Show or hide what is typed</source>
        <translation>Afficher ou masquer la saisie</translation>
    </message>
    <message>
        <source>Name</source>
        <translation>Nom</translation>
    </message>
    <message>
        <source>Base URL</source>
        <translation>URL de base</translation>
    </message>
    <message>
        <source>Currency</source>
        <translation>Devise</translation>
    </message>
    <message>
        <source>Identifier</source>
        <translation>Identifiant</translation>
    </message>
    <message>
        <source>API key</source>
        <translation>Clé d’API</translation>
    </message>
    <message>
        <source>Shared key</source>
        <translation>Clé partagée</translation>
    </message>
    <message>
        <source>Credentials are kept in the system keyring, never in a file.</source>
        <translation>Les identifiants sont conservés dans le trousseau du système, jamais dans un fichier.</translation>
    </message>
    <message>
        <source>Test connection</source>
        <translation>Tester la connexion</translation>
    </message>
    <message>
        <source>Make active</source>
        <translation>Activer</translation>
    </message>
    <message>
        <source>Save</source>
        <translation>Enregistrer</translation>
    </message>
    <message>
        <source>Connection</source>
        <translation>Connexion</translation>
    </message>
    <message>
        <source>E-mail</source>
        <translation>E-mail</translation>
    </message>
    <message>
        <source> s</source>
        <translation> s</translation>
    </message>
    <message>
        <source>Seconds before the clipboard is cleared</source>
        <translation>Secondes avant l’effacement du presse-papiers</translation>
    </message>
    <message>
        <source>&amp;Clear copied codes and PINs from the clipboard after</source>
        <translation>&amp;Effacer du presse-papiers les codes et PIN copiés après</translation>
    </message>
    <message>
        <source>Demo (built-in simulator)</source>
        <translation>Démo (simulateur intégré)</translation>
    </message>
    <message>
        <source>%s (active)</source>
        <translation>%s (actif)</translation>
    </message>
    <message>
        <source>Demo</source>
        <translation>Démo</translation>
    </message>
    <message>
        <source>built-in simulator</source>
        <translation>simulateur intégré</translation>
    </message>
    <message>
        <source>Hide</source>
        <translation>Masquer</translation>
    </message>
    <message>
        <source>Enter the identifier Walleo gave you.</source>
        <translation>Saisissez l’identifiant fourni par Walleo.</translation>
    </message>
    <message>
        <source>Enter the API key Walleo gave you.</source>
        <translation>Saisissez la clé d’API fournie par Walleo.</translation>
    </message>
    <message>
        <source>Enter the shared key Walleo gave you.</source>
        <translation>Saisissez la clé partagée fournie par Walleo.</translation>
    </message>
    <message>
        <source>The shared key must be hexadecimal (digits 0-9 and letters A-F).</source>
        <translation>La clé partagée doit être hexadécimale (chiffres 0-9 et lettres A-F).</translation>
    </message>
    <message>
        <source>The base URL must start with https:// (plain http:// only for a simulator on this computer).</source>
        <translation>L’URL de base doit commencer par https:// (http:// seulement pour un simulateur sur cet ordinateur).</translation>
    </message>
    <message>
        <source>Give the profile a name.</source>
        <translation>Donnez un nom au profil.</translation>
    </message>
    <message>
        <source>A profile named “%s” already exists.</source>
        <translation>Un profil nommé «&#xa0;%s&#xa0;» existe déjà.</translation>
    </message>
    <message>
        <source>The currency is a 3-letter code such as EUR.</source>
        <translation>La devise est un code de 3 lettres, par exemple EUR.</translation>
    </message>
    <message>
        <source>No system keyring is available (no Secret Service running). Credentials will be kept for this session only.</source>
        <translation>Aucun trousseau système n’est disponible (aucun service Secret Service actif). Les identifiants ne seront conservés que pour cette session.</translation>
    </message>
    <message>
        <source>No credentials are stored for this profile yet.</source>
        <translation>Aucun identifiant n’est encore enregistré pour ce profil.</translation>
    </message>
    <message>
        <source>The profile could not be saved: %s</source>
        <translation>Le profil n’a pas pu être enregistré&#xa0;: %s</translation>
    </message>
    <message>
        <source>Saved.</source>
        <translation>Enregistré.</translation>
    </message>
    <message>
        <source>Saved. The credentials are in the system keyring.</source>
        <translation>Enregistré. Les identifiants sont dans le trousseau du système.</translation>
    </message>
    <message>
        <source>Saved. The credentials are kept for this session only.</source>
        <translation>Enregistré. Les identifiants ne sont conservés que pour cette session.</translation>
    </message>
    <message>
        <source>Delete the profile “%s” and its stored credentials?</source>
        <translation>Supprimer le profil «&#xa0;%s&#xa0;» et ses identifiants enregistrés&#xa0;?</translation>
    </message>
    <message>
        <source>Delete profile</source>
        <translation>Supprimer le profil</translation>
    </message>
    <message>
        <source>The profile could not be deleted: %s</source>
        <translation>Le profil n’a pas pu être supprimé&#xa0;: %s</translation>
    </message>
    <message>
        <source>Profile “%s” deleted.</source>
        <translation>Profil «&#xa0;%s&#xa0;» supprimé.</translation>
    </message>
    <message>
        <source>The active profile could not be changed: %s</source>
        <translation>Le profil actif n’a pas pu être changé&#xa0;: %s</translation>
    </message>
    <message>
        <source>The demo is now active.</source>
        <translation>La démo est maintenant active.</translation>
    </message>
    <message>
        <source>“%s” is now the active profile.</source>
        <translation>«&#xa0;%s&#xa0;» est maintenant le profil actif.</translation>
    </message>
    <message>
        <source>Testing the connection…</source>
        <translation>Test de la connexion…</translation>
    </message>
    <message>
        <source>The connection test failed unexpectedly (see the log).</source>
        <translation>Le test de connexion a échoué de façon inattendue (voir le journal).</translation>
    </message>
</context>
<context>
    <name>ShiftDialog</name>
    <message>
        <source>Close shift</source>
        <translation>Clôturer le poste</translation>
    </message>
    <message>
        <source>Whose shift to close</source>
        <translation>L’agent dont le poste est clôturé</translation>
    </message>
    <message>
        <source>Brand</source>
        <translation>Enseigne</translation>
    </message>
    <message>
        <source>Cards</source>
        <translation>Cartes</translation>
    </message>
    <message>
        <source>Face value</source>
        <translation>Valeur faciale</translation>
    </message>
    <message>
        <source>Cost</source>
        <translation>Coût</translation>
    </message>
    <message>
        <source>Failed</source>
        <translation>Échouées</translation>
    </message>
    <message>
        <source>In doubt</source>
        <translation>Incertaines</translation>
    </message>
    <message>
        <source>Pending</source>
        <translation>En attente</translation>
    </message>
    <message>
        <source>Store this report in the history for good (it is never edited)</source>
        <translation>Enregistrer ce rapport dans l’historique pour de bon (il n’est jamais modifié)</translation>
    </message>
    <message>
        <source>Save &amp;PDF…</source>
        <translation>Enregistrer en &amp;PDF…</translation>
    </message>
    <message>
        <source>Save &amp;CSV…</source>
        <translation>Enregistrer en &amp;CSV…</translation>
    </message>
    <message>
        <source>P&amp;rint…</source>
        <translation>&amp;Imprimer…</translation>
    </message>
    <message>
        <source>Available once the shift is closed</source>
        <translation>Disponible une fois le poste clôturé</translation>
    </message>
    <message>
        <source>&amp;Agent:</source>
        <translation>&amp;Agent&#xa0;:</translation>
    </message>
    <message>
        <source>Period:</source>
        <translation>Période&#xa0;:</translation>
    </message>
    <message>
        <source>Shift report</source>
        <translation>Rapport de poste</translation>
    </message>
    <message>
        <source>Report #{id}</source>
        <translation>Rapport n°&#xa0;{id}</translation>
    </message>
    <message>
        <source>Preview: not closed yet</source>
        <translation>Aperçu&#xa0;: pas encore clôturé</translation>
    </message>
    <message>
        <source>Agent</source>
        <translation>Agent</translation>
    </message>
    <message>
        <source>Period</source>
        <translation>Période</translation>
    </message>
    <message>
        <source>{start} to {end}</source>
        <translation>du {start} au {end}</translation>
    </message>
    <message>
        <source>First pull</source>
        <translation>Première émission</translation>
    </message>
    <message>
        <source>Last pull</source>
        <translation>Dernière émission</translation>
    </message>
    <message>
        <source>none</source>
        <translation>aucune</translation>
    </message>
    <message>
        <source>Pulls</source>
        <translation>Émissions</translation>
    </message>
    <message>
        <source>{pulls}: {cards} issued, {failed} failed ({errors} in error, {rejected} rejected), {in_doubt} in doubt, {pending} pending</source>
        <translation>{pulls}&#xa0;: {cards} émises, {failed} échouées ({errors} en erreur, {rejected} refusées), {in_doubt} incertaines, {pending} en attente</translation>
    </message>
    <message>
        <source>Closed at</source>
        <translation>Clôturé le</translation>
    </message>
    <message>
        <source>Closed by</source>
        <translation>Clôturé par</translation>
    </message>
    <message>
        <source>Total</source>
        <translation>Total</translation>
    </message>
    <message>
        <source>No pull in this period.</source>
        <translation>Aucune émission sur cette période.</translation>
    </message>
    <message>
        <source>Times are local time ({zone}).</source>
        <translation>Les heures sont en heure locale ({zone}).</translation>
    </message>
    <message>
        <source>Face value and cost count issued cards only: a failed, in-doubt or pending pull issued nothing (yet). An in-doubt pull must be checked before anything is issued again.</source>
        <translation>La valeur faciale et le coût ne comptent que les cartes émises&#xa0;: une émission échouée, incertaine ou en attente n’a (encore) rien émis. Une émission incertaine doit être vérifiée avant de réémettre quoi que ce soit.</translation>
    </message>
    <message>
        <source>Counting {agent}&apos;s pulls…</source>
        <translation>Décompte des émissions de {agent}…</translation>
    </message>
    <message>
        <source>Closing the shift…</source>
        <translation>Clôture du poste…</translation>
    </message>
    <message>
        <source>PDF files (*.pdf)</source>
        <translation>Fichiers PDF (*.pdf)</translation>
    </message>
    <message>
        <source>CSV files (*.csv)</source>
        <translation>Fichiers CSV (*.csv)</translation>
    </message>
    <message>
        <source>Printing cancelled. The report #{id} is stored: print it or save it whenever you like.</source>
        <translation>Impression annulée. Le rapport n°&#xa0;{id} est enregistré&#xa0;: imprimez-le ou sauvegardez-le quand vous voulez.</translation>
    </message>
    <message>
        <source>Printing…</source>
        <translation>Impression…</translation>
    </message>
    <message>
        <source>Shift report{number} — {agent}</source>
        <translation>Rapport de poste{number} — {agent}</translation>
    </message>
    <message>
        <source>Nothing is stored yet. Check the figures, then close the shift: the report is kept in the history for good.</source>
        <translation>Rien n’est encore enregistré. Vérifiez les chiffres, puis clôturez le poste&#xa0;: le rapport est conservé dans l’historique pour de bon.</translation>
    </message>
    <message>
        <source>Close</source>
        <translation>Fermer</translation>
    </message>
    <message>
        <source>Shift closed: report #{id} is stored in the history.</source>
        <translation>Poste clôturé&#xa0;: le rapport n°&#xa0;{id} est enregistré dans l’historique.</translation>
    </message>
    <message>
        <source>Something went wrong ({error}). The details are in the log.</source>
        <translation>Une erreur s’est produite ({error}). Les détails figurent dans le journal.</translation>
    </message>
    <message>
        <source>First pull: {first} · Last pull: {last}</source>
        <translation>Première émission&#xa0;: {first} · Dernière émission&#xa0;: {last}</translation>
    </message>
    <message>
        <source>The folder {folder} does not exist.</source>
        <translation>Le dossier {folder} n’existe pas.</translation>
    </message>
    <message>
        <source>Saving…</source>
        <translation>Enregistrement…</translation>
    </message>
    <message>
        <source>Report saved to {path}</source>
        <translation>Rapport enregistré dans {path}</translation>
    </message>
    <message>
        <source>The file could not be written ({reason}). Nothing is lost: report #{id} is stored; save it somewhere else.</source>
        <translation>Le fichier n’a pas pu être écrit ({reason}). Rien n’est perdu&#xa0;: le rapport n°&#xa0;{id} est enregistré&#xa0;; enregistrez-le ailleurs.</translation>
    </message>
    <message>
        <source>the printer</source>
        <translation>l’imprimante</translation>
    </message>
    <message>
        <source>The report could not be printed on {printer} ({reason}). Nothing is lost: report #{id} is stored; print it again, or save it as PDF.</source>
        <translation>Le rapport n’a pas pu être imprimé sur {printer} ({reason}). Rien n’est perdu&#xa0;: le rapport n°&#xa0;{id} est enregistré&#xa0;; imprimez-le de nouveau, ou enregistrez-le en PDF.</translation>
    </message>
    <message>
        <source>Report #{id} sent to the printer.</source>
        <translation>Rapport n°&#xa0;{id} envoyé à l’imprimante.</translation>
    </message>
</context>
<context>
    <name>SmtpSettingsPanel</name>
    <message>
        <source>The team&apos;s SMTP server, used to e-mail cards to customers. These settings belong to the profile selected on the left.</source>
        <translation>Le serveur SMTP de l’équipe, pour envoyer les cartes aux clients par e-mail. Ces réglages sont ceux du profil sélectionné à gauche.</translation>
    </message>
    <message>
        <source>smtp.example.com</source>
        <translation>smtp.exemple.fr</translation>
    </message>
    <message>
        <source>STARTTLS (recommended)</source>
        <translation>STARTTLS (recommandé)</translation>
    </message>
    <message>
        <source>TLS from the start (SMTPS)</source>
        <translation>TLS dès la connexion (SMTPS)</translation>
    </message>
    <message>
        <source>None (a server on this computer only)</source>
        <translation>Aucune (seulement un serveur sur cet ordinateur)</translation>
    </message>
    <message>
        <source>cards@your-company.example</source>
        <translation>cartes@votre-societe.fr</translation>
    </message>
    <message>
        <source>Your company&apos;s name</source>
        <translation>Le nom de votre société</translation>
    </message>
    <message>
        <source>Empty when the server needs none</source>
        <translation>Vide si le serveur n’en demande pas</translation>
    </message>
    <message>
        <source>Show</source>
        <translation>Afficher</translation>
    </message>
    <message>
        <source>Show the SMTP password</source>
        <translation>Afficher le mot de passe SMTP</translation>
    </message>
    <message>
        <source>Only for a company&apos;s own certificates</source>
        <translation>Seulement pour les certificats propres à une société</translation>
    </message>
    <message>
        <source>A PEM file of certificate authorities to trust besides the system&apos;s. The server&apos;s certificate is always checked.</source>
        <translation>Un fichier PEM d’autorités de certification à accepter en plus de celles du système. Le certificat du serveur est toujours vérifié.</translation>
    </message>
    <message>
        <source>Browse…</source>
        <translation>Parcourir…</translation>
    </message>
    <message>
        <source>The sender&apos;s address</source>
        <translation>L’adresse de l’expéditeur</translation>
    </message>
    <message>
        <source>SMTP &amp;server</source>
        <translation>&amp;Serveur SMTP</translation>
    </message>
    <message>
        <source>P&amp;ort</source>
        <translation>P&amp;ort</translation>
    </message>
    <message>
        <source>Securit&amp;y</source>
        <translation>Sécu&amp;rité</translation>
    </message>
    <message>
        <source>Sender&apos;s a&amp;ddress</source>
        <translation>&amp;Adresse de l’expéditeur</translation>
    </message>
    <message>
        <source>Sender&apos;s &amp;name</source>
        <translation>&amp;Nom de l’expéditeur</translation>
    </message>
    <message>
        <source>&amp;User name</source>
        <translation>Nom d’&amp;utilisateur</translation>
    </message>
    <message>
        <source>Pass&amp;word</source>
        <translation>Mot de &amp;passe</translation>
    </message>
    <message>
        <source>Trust this C&amp;A file</source>
        <translation>Faire confiance au fichier d’A&amp;C</translation>
    </message>
    <message>
        <source>Send the test &amp;to</source>
        <translation>Adresse du &amp;test</translation>
    </message>
    <message>
        <source>The password is kept in the system keyring, never in a file.</source>
        <translation>Le mot de passe est conservé dans le trousseau du système, jamais dans un fichier.</translation>
    </message>
    <message>
        <source>Send a test e-&amp;mail</source>
        <translation>Envoyer un e-&amp;mail de test</translation>
    </message>
    <message>
        <source>Sa&amp;ve e-mail settings</source>
        <translation>Enre&amp;gistrer les réglages d’e-mail</translation>
    </message>
    <message>
        <source>Save the profile first; then set up its e-mail here.</source>
        <translation>Enregistrez d’abord le profil&#xa0;; configurez ensuite son e-mail ici.</translation>
    </message>
    <message>
        <source>Profile: %s</source>
        <translation>Profil&#xa0;: %s</translation>
    </message>
    <message>
        <source>Hide</source>
        <translation>Masquer</translation>
    </message>
    <message>
        <source>Certificate authorities to trust</source>
        <translation>Autorités de certification à accepter</translation>
    </message>
    <message>
        <source>Certificates (*.pem *.crt *.cer)</source>
        <translation>Certificats (*.pem *.crt *.cer)</translation>
    </message>
    <message>
        <source>All files (*)</source>
        <translation>Tous les fichiers (*)</translation>
    </message>
    <message>
        <source>Enter the SMTP server&apos;s host name, for example smtp.example.com.</source>
        <translation>Saisissez le nom d’hôte du serveur SMTP, par exemple smtp.exemple.fr.</translation>
    </message>
    <message>
        <source>Write the host name alone, without smtp:// or a port.</source>
        <translation>Écrivez le nom d’hôte seul, sans smtp:// ni port.</translation>
    </message>
    <message>
        <source>Without encryption only a server on this computer is allowed: choose STARTTLS or TLS.</source>
        <translation>Sans chiffrement, seul un serveur sur cet ordinateur est accepté&#xa0;: choisissez STARTTLS ou TLS.</translation>
    </message>
    <message>
        <source>Enter the sender&apos;s address, a valid e-mail address.</source>
        <translation>Saisissez l’adresse de l’expéditeur, une adresse e-mail valide.</translation>
    </message>
    <message>
        <source>The CA file does not exist: %s</source>
        <translation>Le fichier d’AC n’existe pas&#xa0;: %s</translation>
    </message>
    <message>
        <source>No system keyring is available: the SMTP password will be kept for this session only.</source>
        <translation>Aucun trousseau système n’est disponible&#xa0;: le mot de passe SMTP sera conservé pour cette session seulement.</translation>
    </message>
    <message>
        <source>The e-mail settings could not be saved: %s</source>
        <translation>Les réglages d’e-mail n’ont pas pu être enregistrés&#xa0;: %s</translation>
    </message>
    <message>
        <source>E-mail settings saved.</source>
        <translation>Réglages d’e-mail enregistrés.</translation>
    </message>
    <message>
        <source>E-mail settings saved. The password is in the system keyring.</source>
        <translation>Réglages d’e-mail enregistrés. Le mot de passe est dans le trousseau du système.</translation>
    </message>
    <message>
        <source>E-mail settings saved. The password is kept for this session only.</source>
        <translation>Réglages d’e-mail enregistrés. Le mot de passe est conservé pour cette session seulement.</translation>
    </message>
    <message>
        <source>Sending a test e-mail to %s…</source>
        <translation>Envoi d’un e-mail de test à %s…</translation>
    </message>
    <message>
        <source>Test e-mail sent to %s: check that it arrived.</source>
        <translation>E-mail de test envoyé à %s&#xa0;: vérifiez qu’il est bien arrivé.</translation>
    </message>
    <message>
        <source>The test e-mail failed unexpectedly (see the log).</source>
        <translation>L’e-mail de test a échoué de façon inattendue (voir le journal).</translation>
    </message>
</context>
<context>
    <name>StatusBar</name>
    <message>
        <source>DEMO</source>
        <translation>DÉMO</translation>
    </message>
    <message>
        <source>Built-in simulator: no real cards are issued and nothing is charged.</source>
        <translation>Simulateur intégré&#xa0;: aucune vraie carte n’est émise et rien n’est facturé.</translation>
    </message>
    <message>
        <source>Connected to Walleo with the profile “{name}”.</source>
        <translation>Connecté à Walleo avec le profil «&#xa0;{name}&#xa0;».</translation>
    </message>
    <message numerus="yes">
        <source>%n in flight</source>
        <translation>
            <numerusform>%n en cours</numerusform>
            <numerusform>%n en cours</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>TeamDialog</name>
    <message>
        <source>Settings — Team</source>
        <translation>Paramètres — Équipe</translation>
    </message>
    <message>
        <source>A team shares one history on a PostgreSQL server: every agent sees the team&apos;s pulls, a crashed desktop&apos;s pulls are finished by a teammate, and finance reviews and exports everything. Each member has their own login; its password and key stay in this computer&apos;s keyring.</source>
        <translation>Une équipe partage un historique sur un serveur PostgreSQL : chaque agent voit les émissions de l’équipe, celles d’un poste tombé en panne sont terminées par un collègue, et la comptabilité contrôle et exporte tout. Chaque membre a son propre identifiant ; son mot de passe et sa clé restent dans le trousseau de cet ordinateur.</translation>
    </message>
    <message>
        <source>walleo-invite:… (from your team admin)</source>
        <translation>walleo-invite:… (donné par l’administrateur de l’équipe)</translation>
    </message>
    <message>
        <source>Invite code</source>
        <translation>Code d’invitation</translation>
    </message>
    <message>
        <source>&amp;Join</source>
        <translation>&amp;Rejoindre</translation>
    </message>
    <message>
        <source>Join a team</source>
        <translation>Rejoindre une équipe</translation>
    </message>
    <message>
        <source>Paste the invite code your team admin gave you:</source>
        <translation>Collez le code d’invitation donné par l’administrateur de l’équipe :</translation>
    </message>
    <message>
        <source>Used only now, never kept</source>
        <translation>Utilisé maintenant seulement, jamais conservé</translation>
    </message>
    <message>
        <source>lower-case, e.g. lea</source>
        <translation>en minuscules, p. ex. lea</translation>
    </message>
    <message>
        <source>Try it with a Walleo simulator on this computer (no real cards)</source>
        <translation>Essayer avec un simulateur Walleo sur cet ordinateur (aucune vraie carte)</translation>
    </message>
    <message>
        <source>&amp;Create the team</source>
        <translation>&amp;Créer l’équipe</translation>
    </message>
    <message>
        <source>Create a team (its first admin)</source>
        <translation>Créer une équipe (son premier administrateur)</translation>
    </message>
    <message>
        <source>Empty database</source>
        <translation>Base de données vide</translation>
    </message>
    <message>
        <source>Superuser password</source>
        <translation>Mot de passe du superutilisateur</translation>
    </message>
    <message>
        <source>Your member name</source>
        <translation>Votre nom de membre</translation>
    </message>
    <message>
        <source>Walleo base URL</source>
        <translation>URL de base Walleo</translation>
    </message>
    <message>
        <source>Walleo identifier</source>
        <translation>Identifiant Walleo</translation>
    </message>
    <message>
        <source>Walleo API key</source>
        <translation>Clé d’API Walleo</translation>
    </message>
    <message>
        <source>Walleo shared key</source>
        <translation>Clé partagée Walleo</translation>
    </message>
    <message>
        <source>Member</source>
        <translation>Membre</translation>
    </message>
    <message>
        <source>Role</source>
        <translation>Rôle</translation>
    </message>
    <message>
        <source>State</source>
        <translation>État</translation>
    </message>
    <message>
        <source>Key fingerprint</source>
        <translation>Empreinte de la clé</translation>
    </message>
    <message>
        <source>Re&amp;fresh</source>
        <translation>Actuali&amp;ser</translation>
    </message>
    <message>
        <source>&amp;Approve…</source>
        <translation>&amp;Approuver…</translation>
    </message>
    <message>
        <source>Give the selected member the team&apos;s keys, after checking their fingerprint</source>
        <translation>Donner au membre sélectionné les clés de l’équipe, après avoir vérifié son empreinte</translation>
    </message>
    <message>
        <source>&amp;Remove…</source>
        <translation>Re&amp;tirer…</translation>
    </message>
    <message>
        <source>&amp;Leave on this desktop…</source>
        <translation>&amp;Quitter sur ce poste…</translation>
    </message>
    <message>
        <source>&amp;Use the team&apos;s history</source>
        <translation>&amp;Utiliser l’historique de l’équipe</translation>
    </message>
    <message>
        <source>member name, e.g. sam</source>
        <translation>nom du membre, p. ex. sam</translation>
    </message>
    <message>
        <source>Agent</source>
        <translation>Agent</translation>
    </message>
    <message>
        <source>Finance</source>
        <translation>Comptabilité</translation>
    </message>
    <message>
        <source>Admin</source>
        <translation>Administrateur</translation>
    </message>
    <message>
        <source>&amp;Invite</source>
        <translation>&amp;Inviter</translation>
    </message>
    <message>
        <source>&amp;Copy the code</source>
        <translation>&amp;Copier le code</translation>
    </message>
    <message>
        <source>Invite a member</source>
        <translation>Inviter un membre</translation>
    </message>
    <message>
        <source>You are {member} ({role}) on the team at {server}.</source>
        <translation>Vous êtes {member} ({role}) dans l’équipe sur {server}.</translation>
    </message>
    <message>
        <source>agent</source>
        <translation>agent</translation>
    </message>
    <message>
        <source>finance</source>
        <translation>comptabilité</translation>
    </message>
    <message>
        <source>admin</source>
        <translation>administrateur</translation>
    </message>
    <message>
        <source>Working…</source>
        <translation>En cours…</translation>
    </message>
    <message>
        <source>That did not work ({error}); see the log.</source>
        <translation>Cela n’a pas fonctionné ({error}) ; voir le journal.</translation>
    </message>
    <message>
        <source>Paste the invite code first.</source>
        <translation>Collez d’abord le code d’invitation.</translation>
    </message>
    <message>
        <source>Joined as {member}. Your key&apos;s fingerprint is {fingerprint}: read it to your team admin, who approves it; then this desktop opens the team&apos;s history.</source>
        <translation>Équipe rejointe en tant que {member}. L’empreinte de votre clé est {fingerprint} : lisez-la à l’administrateur de l’équipe, qui l’approuve ; ce poste ouvre alors l’historique de l’équipe.</translation>
    </message>
    <message>
        <source>Give the empty database&apos;s address.</source>
        <translation>Indiquez l’adresse de la base de données vide.</translation>
    </message>
    <message>
        <source>Give your member name.</source>
        <translation>Indiquez votre nom de membre.</translation>
    </message>
    <message>
        <source>The team is created and you ({member}) are its admin. Invite its members below.</source>
        <translation>L’équipe est créée et vous ({member}) en êtes l’administrateur. Invitez ses membres ci-dessous.</translation>
    </message>
    <message>
        <source>removed</source>
        <translation>retiré</translation>
    </message>
    <message>
        <source>invited, not joined</source>
        <translation>invité, pas encore rejoint</translation>
    </message>
    <message>
        <source>active</source>
        <translation>actif</translation>
    </message>
    <message>
        <source>joined: to approve</source>
        <translation>rejoint : à approuver</translation>
    </message>
    <message>
        <source>joined</source>
        <translation>rejoint</translation>
    </message>
    <message>
        <source>Waiting for your approval: {names}.</source>
        <translation>En attente de votre approbation : {names}.</translation>
    </message>
    <message>
        <source>{count} member(s); keys {keys}.</source>
        <translation>{count} membre(s) ; clés {keys}.</translation>
    </message>
    <message>
        <source>Give the new member&apos;s name.</source>
        <translation>Indiquez le nom du nouveau membre.</translation>
    </message>
    <message>
        <source>Give {member} this code, in person or by phone (valid 48 hours, one use). It is worth nothing until you approve the key their desktop makes.</source>
        <translation>Donnez ce code à {member}, en personne ou par téléphone (valable 48 heures, une seule fois). Il ne vaut rien tant que vous n’avez pas approuvé la clé que son poste crée.</translation>
    </message>
    <message>
        <source>The invite code is on the clipboard.</source>
        <translation>Le code d’invitation est dans le presse-papiers.</translation>
    </message>
    <message>
        <source>Approve {member}?</source>
        <translation>Approuver {member} ?</translation>
    </message>
    <message>
        <source>Ask {member} to read the fingerprint their desktop showed. Approve only if it is exactly:

{fingerprint}</source>
        <translation>Demandez à {member} de lire l’empreinte affichée par son poste. N’approuvez que si c’est exactement :

{fingerprint}</translation>
    </message>
    <message>
        <source>They match: approve</source>
        <translation>Elles correspondent : approuver</translation>
    </message>
    <message>
        <source>{member} is approved.</source>
        <translation>{member} est approuvé.</translation>
    </message>
    <message>
        <source>Remove {member}?</source>
        <translation>Retirer {member} ?</translation>
    </message>
    <message>
        <source>{member} will no longer be able to log in, and the team gets new keys they never have. Their pulls stay in the history, in their name.</source>
        <translation>{member} ne pourra plus se connecter, et l’équipe reçoit de nouvelles clés qu’il n’aura jamais. Ses émissions restent dans l’historique, à son nom.</translation>
    </message>
    <message>
        <source>Remove</source>
        <translation>Retirer</translation>
    </message>
    <message>
        <source>{member} is removed; new cards use the key {key}.</source>
        <translation>{member} est retiré ; les nouvelles cartes utilisent la clé {key}.</translation>
    </message>
    <message>
        <source>This desktop uses the team&apos;s history.</source>
        <translation>Ce poste utilise l’historique de l’équipe.</translation>
    </message>
    <message>
        <source>Leave the team on this desktop?</source>
        <translation>Quitter l’équipe sur ce poste ?</translation>
    </message>
    <message>
        <source>This desktop forgets its team login and key. The team keeps its history; to work in it again you need a new invite.</source>
        <translation>Ce poste oublie son identifiant et sa clé d’équipe. L’équipe garde son historique ; pour y travailler de nouveau, il faut une nouvelle invitation.</translation>
    </message>
    <message>
        <source>Leave</source>
        <translation>Quitter</translation>
    </message>
    <message>
        <source>This desktop left the team.</source>
        <translation>Ce poste a quitté l’équipe.</translation>
    </message>
</context>
<context>
    <name>_SecretRow</name>
    <message>
        <source>Reveal</source>
        <translation>Afficher</translation>
    </message>
    <message>
        <source>Hide</source>
        <translation>Masquer</translation>
    </message>
    <message>
        <source>Reveal {what}</source>
        <translation>Afficher : {what}</translation>
    </message>
    <message>
        <source>Copy {what}</source>
        <translation>Copier : {what}</translation>
    </message>
</context>
</TS>
