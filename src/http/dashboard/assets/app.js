// The dashboard's entry: a hash router over three views, the live feed, and a clock that keeps
// "3s ago" texts current.
//
// Routes: #/ overview · #/tasks?state=&queue=&task= the task list · #/tasks/<id> a task's page.

import { connect } from './api.js';
import { tickAges, toast } from './dom.js';
import * as overview from './overview.js';
import * as task from './task.js';
import * as tasks from './tasks.js';

const main = document.getElementById('main');
let unmount = () => {};

function route() {
  const hash = location.hash.replace(/^#/, '') || '/';
  const [path, search = ''] = hash.split('?');
  const params = new URLSearchParams(search);
  const detail = path.match(/^\/tasks\/(.+)$/);
  const section = detail || path.startsWith('/tasks') ? 'tasks' : 'overview';
  for (const a of document.querySelectorAll('[data-nav]')) {
    if (a.dataset.nav === section) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  unmount();
  if (detail) unmount = task.mount(main, decodeURIComponent(detail[1]));
  else if (section === 'tasks') unmount = tasks.mount(main, params);
  else unmount = overview.mount(main);
  if (!detail) document.title = section === 'tasks' ? 'Tasks · Conveyor' : 'Conveyor';
}

function setStatus(state) {
  const el = document.querySelector('[data-testid="connection-status"]');
  el.dataset.state = state;
  el.querySelector('.conn-text').textContent = { live: 'Live', reconnecting: 'Reconnecting…', closed: 'Disconnected' }[state] ?? 'Connecting…';
}

window.addEventListener('hashchange', () => {
  route();
  main.focus({ preventScroll: true }); // screen readers start reading the new view
  window.scrollTo(0, 0);
});
route();
setInterval(tickAges, 1000);
connect(setStatus).catch((err) => toast(`Could not reach the API: ${err.message}`, 'error'));
