//! Both UI dictionaries (Dutch first, English second) and the remembered choice.

const nl = {
  appName: 'Werktafel',
  language: 'Taal',
  switchLanguage: 'English',
  switchLanguageLabel: 'Switch to English',
  loading: 'Laden…',
  eventNotFound: 'Dit evenement of deze tafel bestaat niet.',
  needLink: 'Open Werktafel via de link of QR-code van de organisatie: daarin zit de toegangssleutel.',
  loadFailed: 'Kon het evenement niet laden. We proberen het zo opnieuw.',
  tables: 'Werktafels',
  table: 'Tafel',
  programme: 'Programma en toelichting',
  question: 'Centrale vraag',
  cluster: 'Cluster',
  cases: 'Cases',
  teams: 'Verbonden ontwikkelteams',
  team: 'Ontwikkelteam',
  peopleAtTable: '{n} aan tafel',
  notesCount: '{n} notities',
  joinTable: 'Aan tafel {id}',
  yourName: 'Je naam',
  namePrompt: 'Hoe heet je? Je naam staat op je notities.',
  nameSave: 'Opslaan',
  nameChange: 'Naam wijzigen',
  youAre: 'Je bent {name}',
  back: 'Alle tafels',
  lane_goed: 'Wat gaat al goed',
  lane_doorpakken: 'Waar moeten we op doorpakken',
  lane_vervolgstap: 'Vervolgstappen',
  addNote: 'Notitie toevoegen',
  addNoteTo: 'Notitie toevoegen aan “{lane}”',
  noteLabel: 'Notitie van {author} in “{lane}”',
  notePlaceholder: 'Typ je idee…',
  noteBy: 'door {author}',
  dragHandle: 'Verslepen (of Alt+pijltjes om te verplaatsen)',
  moveLeft: 'Naar vorige kolom',
  moveRight: 'Naar volgende kolom',
  color: 'Kleur',
  color_geel: 'geel', color_roze: 'roze', color_blauw: 'blauw', color_groen: 'groen', color_oranje: 'oranje', color_paars: 'paars',
  delete: 'Verwijderen',
  deleted: 'Notitie verwijderd',
  undoDelete: 'Ongedaan maken',
  undo: 'Ongedaan maken',
  redo: 'Opnieuw',
  status_connected: 'verbonden',
  status_connecting: 'verbinden…',
  status_disconnected: 'offline — wijzigingen worden bewaard',
  here: 'Aan deze tafel',
  you: 'jij',
  editing: '{name} typt',
  emptyLane: 'Nog geen notities. Druk op N of op +.',
  shortcuts: 'Sneltoetsen: N nieuwe notitie · Ctrl+Z ongedaan maken · Ctrl+Shift+Z opnieuw · Alt+←/→ op ⠿ of Alt+Shift+←/→ in een notitie: andere kolom · Esc verlaat notitie',
  movedTo: 'Verplaatst naar “{lane}”',
}

export type Key = keyof typeof nl

const en: Record<Key, string> = {
  appName: 'Werktafel',
  language: 'Language',
  switchLanguage: 'Nederlands',
  switchLanguageLabel: 'Schakel naar Nederlands',
  loading: 'Loading…',
  eventNotFound: 'This event or table does not exist.',
  needLink: 'Open Werktafel with the link or QR code from the organisers: it carries the access key.',
  loadFailed: 'Could not load the event. Retrying shortly.',
  tables: 'Work tables',
  table: 'Table',
  programme: 'Programme and introduction',
  question: 'Central question',
  cluster: 'Cluster',
  cases: 'Cases',
  teams: 'Linked development teams',
  team: 'Development team',
  peopleAtTable: '{n} at the table',
  notesCount: '{n} notes',
  joinTable: 'Join table {id}',
  yourName: 'Your name',
  namePrompt: 'What is your name? It is shown on your notes.',
  nameSave: 'Save',
  nameChange: 'Change name',
  youAre: 'You are {name}',
  back: 'All tables',
  lane_goed: 'What is already going well',
  lane_doorpakken: 'Where we must push on',
  lane_vervolgstap: 'Next steps',
  addNote: 'Add note',
  addNoteTo: 'Add a note to “{lane}”',
  noteLabel: 'Note by {author} in “{lane}”',
  notePlaceholder: 'Type your idea…',
  noteBy: 'by {author}',
  dragHandle: 'Drag (or Alt+arrows to move)',
  moveLeft: 'To previous column',
  moveRight: 'To next column',
  color: 'Colour',
  color_geel: 'yellow', color_roze: 'pink', color_blauw: 'blue', color_groen: 'green', color_oranje: 'orange', color_paars: 'purple',
  delete: 'Delete',
  deleted: 'Note deleted',
  undoDelete: 'Undo',
  undo: 'Undo',
  redo: 'Redo',
  status_connected: 'connected',
  status_connecting: 'connecting…',
  status_disconnected: 'offline — changes are kept',
  here: 'At this table',
  you: 'you',
  editing: '{name} is typing',
  emptyLane: 'No notes yet. Press N or +.',
  shortcuts: 'Shortcuts: N new note · Ctrl+Z undo · Ctrl+Shift+Z redo · Alt+←/→ on ⠿ or Alt+Shift+←/→ in a note: other column · Esc leaves a note',
  movedTo: 'Moved to “{lane}”',
}

export type Language = 'nl' | 'en'
const dictionaries: Record<Language, Record<Key, string>> = { nl, en }
const LANG_KEY = 'werktafel.lang'

let current: Language = localStorage.getItem(LANG_KEY) === 'en' ? 'en' : 'nl'
document.documentElement.lang = current

export function language (): Language {
  return current
}

export function setLanguage (lang: Language): void {
  current = lang
  localStorage.setItem(LANG_KEY, lang)
  document.documentElement.lang = lang
}

/** Looks up a UI string and fills `{name}` placeholders. */
export function t (key: Key, params: Record<string, string | number> = {}): string {
  return dictionaries[current][key].replace(/\{(\w+)\}/g, (_, p: string) => String(params[p] ?? `{${p}}`))
}
