// The dermlens page: sends the form to POST /v1/diagnose (multipart) and draws the answer
// (docs/diagnose-json.md). Plain JavaScript, no build step, nothing fetched from elsewhere.
'use strict';

const $ = (id) => document.getElementById(id);
let serverInfo = null;
let chosenFile = null;

function headers() {
  const key = $('api_key').value.trim();
  return key ? { 'X-Api-Key': key } : {};
}

function showError(message) {
  const box = $('error');
  box.textContent = message;
  box.hidden = false;
}

function clearError() {
  $('error').hidden = true;
  $('error').textContent = '';
}

// The error message of an answer: the server's {"error": {"message"}}, else the HTTP status.
async function errorOf(response) {
  try {
    const body = await response.json();
    if (body && body.error && body.error.message) return `${body.error.message} (HTTP ${response.status})`;
  } catch (ignored) { /* not JSON */ }
  return `The server answered HTTP ${response.status} ${response.statusText}`;
}

function option(select, value, text) {
  const element = document.createElement('option');
  element.value = value;
  element.textContent = text || value;
  select.appendChild(element);
}

async function loadInfo() {
  try {
    const response = await fetch('v1/info', { headers: headers() });
    if (!response.ok) {
      showError(await errorOf(response));
      return;
    }
    serverInfo = await response.json();
    clearError();
    const strategies = $('strategy');
    strategies.textContent = '';
    serverInfo.strategies.forEach((name) => option(strategies, name));
    const sets = $('label_set');
    while (sets.options.length > 1) sets.remove(1);
    serverInfo.label_sets.forEach((set) => option(sets, set.name, `${set.name} (${set.labels} labels)`));
    if (serverInfo.probe) {
      $('labels').placeholder = `the probe's classes (${serverInfo.probe.classes.join(', ')})`;
    }
  } catch (error) {
    showError(`Cannot reach the server: ${error.message}`);
  }
}

function chooseFile(file) {
  chosenFile = file || null;
  const preview = $('preview');
  if (!chosenFile) {
    preview.hidden = true;
    return;
  }
  preview.src = URL.createObjectURL(chosenFile);
  preview.hidden = false;
  $('drop-text').textContent = chosenFile.name;
}

function percent(value) {
  return value === null || value === undefined ? '–' : `${(100 * value).toFixed(1)}%`;
}

function bar(kind, value) {
  const row = document.createElement('div');
  row.className = 'bar-row';
  const track = document.createElement('div');
  track.className = 'bar-track';
  const fill = document.createElement('div');
  fill.className = `bar ${kind}`;
  fill.style.width = `${Math.max(0, Math.min(1, value || 0)) * 100}%`;
  track.appendChild(fill);
  const label = document.createElement('span');
  label.textContent = percent(value);
  row.append(track, label);
  return row;
}

// The image-quality gate's verdict (docs/quality.md): what it means for the answer below, and
// the reason of every check that warned or rejected, rejections first.
const qualityHeadline = {
  pass: 'Image quality: good enough to judge.',
  warn: 'Image quality: usable, with cautions — read the answer with them in mind:',
  reject: 'Image quality: too poor to judge. Retake the photo; the answer below is unreliable:',
};

function renderQuality(report) {
  const block = $('quality');
  const gate = report.quality;
  if (!gate || !qualityHeadline[gate.overall]) {
    block.hidden = true;
    return;
  }
  block.className = `quality ${gate.overall}`;
  $('quality-verdict').textContent = qualityHeadline[gate.overall];
  const list = $('quality-reasons');
  list.textContent = '';
  const failing = (gate.checks || []).filter((check) => check.verdict === 'reject' || check.verdict === 'warn');
  failing.sort((a, b) => (a.verdict === b.verdict ? 0 : a.verdict === 'reject' ? -1 : 1));
  failing.forEach((check) => {
    const item = document.createElement('li');
    item.className = check.verdict;
    item.dataset.check = check.name;
    const name = document.createElement('span');
    name.className = 'check';
    name.textContent = ` (${check.name.replace(/_/g, ' ')}, ${check.verdict})`;
    item.append(check.reason, name);
    list.appendChild(item);
  });
  list.hidden = failing.length === 0;
  block.hidden = false;
}

function renderFinal(report) {
  const final = $('final');
  final.textContent = '';
  final.className = 'final';
  if (report.abstained || !report.final_diagnosis) {
    final.classList.add('abstained');
    final.textContent = report.abstained
      ? `No diagnosis: the model abstained (${report.abstain_reason || 'no reason given'}).`
      : 'No diagnosis: the answer could not be read.';
    return;
  }
  const diagnosis = report.final_diagnosis;
  const name = document.createElement('span');
  name.className = 'name';
  name.textContent = diagnosis.name || diagnosis.label;
  final.append(name, ` — ${percent(diagnosis.probability)} `);
  if (diagnosis.malignancy) {
    const tag = document.createElement('span');
    tag.className = `tag ${diagnosis.malignancy}`;
    tag.textContent = diagnosis.malignancy;
    final.appendChild(tag);
  }
  if (diagnosis.taxonomy_path && diagnosis.taxonomy_path.length) {
    const path = document.createElement('div');
    path.className = 'path';
    path.textContent = diagnosis.taxonomy_path.join(' › ');
    final.appendChild(path);
  }
}

function renderDifferential(report) {
  const body = $('differential').querySelector('tbody');
  body.textContent = '';
  const byMarker = new Map(report.candidates.map((candidate) => [candidate.marker, candidate]));
  report.differential.forEach((entry) => {
    const candidate = byMarker.get(entry.marker) || {};
    const row = document.createElement('tr');
    const name = document.createElement('td');
    name.textContent = entry.label;
    const bars = document.createElement('td');
    if (candidate.probe !== null && candidate.probe !== undefined) bars.appendChild(bar('probe', candidate.probe));
    bars.appendChild(bar('vlm', candidate.vlm));
    bars.appendChild(bar('fused', candidate.fused));
    row.append(name, bars);
    body.appendChild(row);
  });
}

function renderDescription(report) {
  const block = $('description-block');
  const list = $('description');
  list.textContent = '';
  const description = report.description;
  if (!description) {
    block.hidden = true;
    return;
  }
  const fields = description.fields && Object.keys(description.fields).length
    ? description.fields : { text: description.raw_text };
  Object.entries(fields).forEach(([key, value]) => {
    const term = document.createElement('dt');
    term.textContent = key.replace(/_/g, ' ');
    const detail = document.createElement('dd');
    detail.textContent = typeof value === 'string' ? value : JSON.stringify(value);
    list.append(term, detail);
  });
  block.hidden = false;
}

function renderHeatmap(report) {
  const block = $('heatmap-block');
  const maps = report.heatmaps;
  const uri = maps && (maps.label || maps.all);
  if (!uri) {
    block.hidden = true;
    return;
  }
  $('heatmap-base').src = $('preview').src;
  $('heatmap').src = uri;
  $('heatmap').style.opacity = $('opacity').value;
  block.hidden = false;
}

function render(report) {
  renderQuality(report);
  renderFinal(report);
  renderDifferential(report);
  renderDescription(report);
  renderHeatmap(report);
  $('result').hidden = false;
}

async function submit(event) {
  event.preventDefault();
  clearError();
  $('result').hidden = true;
  if (!chosenFile) {
    showError('Choose an image first.');
    return;
  }
  const form = new FormData();
  form.append('image', chosenFile, chosenFile.name);
  for (const field of ['label_set', 'labels', 'strategy', 'age', 'sex', 'fitzpatrick', 'site', 'history']) {
    const value = $(field).value.trim();
    if (value) form.append(field, value);
  }
  if (serverInfo && serverInfo.attention) form.append('heatmap', 'true');
  $('submit').disabled = true;
  $('status').textContent = 'Diagnosing…';
  try {
    const response = await fetch('v1/diagnose', { method: 'POST', body: form, headers: headers() });
    if (!response.ok) {
      showError(await errorOf(response));
      return;
    }
    render(await response.json());
  } catch (error) {
    showError(`The request failed: ${error.message}`);
  } finally {
    $('submit').disabled = false;
    $('status').textContent = '';
  }
}

function setUp() {
  const drop = $('drop');
  ['dragenter', 'dragover'].forEach((name) => drop.addEventListener(name, (event) => {
    event.preventDefault();
    drop.classList.add('over');
  }));
  ['dragleave', 'drop'].forEach((name) => drop.addEventListener(name, () => drop.classList.remove('over')));
  drop.addEventListener('drop', (event) => {
    event.preventDefault();
    if (event.dataTransfer.files.length) chooseFile(event.dataTransfer.files[0]);
  });
  $('image').addEventListener('change', () => chooseFile($('image').files[0]));
  $('opacity').addEventListener('input', () => { $('heatmap').style.opacity = $('opacity').value; });
  $('api_key').addEventListener('change', loadInfo);
  $('form').addEventListener('submit', submit);
  loadInfo();
}

setUp();
