//! The words of the droomproces poster view and its console controls, Dutch
//! first and English second; the language choice is the one i18n.ts remembers.
import { language } from './i18n'

const nl = {
  posterRegion: 'Droomproces-poster',
  posterImage: 'Het droomproces: van visie tot integrale uitvoering, met de zes ontwikkelteams',
  posterTools: 'Posterwerktuigen',
  zoomIn: 'Inzoomen',
  zoomOut: 'Uitzoomen',
  zoomFit: 'Hele poster',
  newPosterNote: 'Notitie',
  newTussenstap: 'Tussenstap',
  newActor: 'Actor',
  drawArrow: 'Pijl tekenen',
  arrowPickFrom: 'Pijl: kies de notitie waar de pijl begint (Esc stopt).',
  arrowPickTo: 'Pijl: klik op een notitie of een plek op de poster (of kies een notitie en druk Enter).',
  arrowDrawn: 'Pijl getekend.',
  arrowRemove: 'Pijl verwijderen',
  arrowsFull: 'Deze poster heeft al het maximum aantal pijlen.',
  markersFull: 'Deze poster heeft al het maximum aantal markeringen.',
  tray: 'Nog te plaatsen',
  trayEmpty: 'Alle notities staan op de poster.',
  place: 'Plaats op de poster',
  placed: 'Geplaatst op de poster.',
  unplace: 'Terug naar de bak',
  noteOnPoster: 'Notitie: {text}. Pijltjestoetsen verplaatsen, Enter bewerkt, A begint een pijl, Delete haalt van de poster.',
  markerLabel: 'Naam van de {kind}',
  marker_tussenstap: 'tussenstap',
  marker_actor: 'actor',
  markerOnPoster: '{kind}: {label}. Pijltjestoetsen verplaatsen, Delete verwijdert.',
  removeMarker: 'Verwijderen',
  viewportHelp: 'Poster: pijltjestoetsen schuiven, + en − zoomen, 0 toont de hele poster.',
  viewLanes: 'Kolommen',
  viewPoster: 'Poster',
  viewLabel: 'Weergave',
  posterUpload: 'Posterafbeelding (PNG, JPEG of WebP)',
  posterUploaded: 'Nieuwe poster geplaatst.',
  posterTooLarge: 'Deze afbeelding is te groot.',
  posterWrongType: 'Dit is geen PNG-, JPEG- of WebP-afbeelding.',
  posterOfTable: 'Poster van tafel {id}',
}

export type PosterKey = keyof typeof nl

const en: Record<PosterKey, string> = {
  posterRegion: 'Dream process poster',
  posterImage: 'The dream process: from vision to integrated delivery, with the six development teams',
  posterTools: 'Poster tools',
  zoomIn: 'Zoom in',
  zoomOut: 'Zoom out',
  zoomFit: 'Whole poster',
  newPosterNote: 'Note',
  newTussenstap: 'Intermediate step',
  newActor: 'Actor',
  drawArrow: 'Draw arrow',
  arrowPickFrom: 'Arrow: pick the note where the arrow starts (Esc stops).',
  arrowPickTo: 'Arrow: click a note or a spot on the poster (or pick a note and press Enter).',
  arrowDrawn: 'Arrow drawn.',
  arrowRemove: 'Remove arrow',
  arrowsFull: 'This poster already has the most arrows it can hold.',
  markersFull: 'This poster already has the most markers it can hold.',
  tray: 'Still to place',
  trayEmpty: 'Every note is on the poster.',
  place: 'Place on the poster',
  placed: 'Placed on the poster.',
  unplace: 'Back to the tray',
  noteOnPoster: 'Note: {text}. Arrow keys move, Enter edits, A starts an arrow, Delete takes it off the poster.',
  markerLabel: 'Name of the {kind}',
  marker_tussenstap: 'intermediate step',
  marker_actor: 'actor',
  markerOnPoster: '{kind}: {label}. Arrow keys move, Delete removes.',
  removeMarker: 'Remove',
  viewportHelp: 'Poster: arrow keys pan, + and − zoom, 0 shows the whole poster.',
  viewLanes: 'Columns',
  viewPoster: 'Poster',
  viewLabel: 'View',
  posterUpload: 'Poster image (PNG, JPEG or WebP)',
  posterUploaded: 'New poster in place.',
  posterTooLarge: 'This image is too large.',
  posterWrongType: 'This is not a PNG, JPEG or WebP image.',
  posterOfTable: 'Poster of table {id}',
}

/** Looks up a poster string and fills `{name}` placeholders. */
export function tp (key: PosterKey, params: Record<string, string | number> = {}): string {
  const dict = language() === 'en' ? en : nl
  return dict[key].replace(/\{(\w+)\}/g, (_, p: string) => String(params[p] ?? `{${p}}`))
}
