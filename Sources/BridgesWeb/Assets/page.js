// Live updates for the Bridges page. The server renders every page; this script only follows
// /v1/ws (the page's session cookie signs the socket in) and, when something changes, fetches
// the changed part of the page from the server and puts it in place.
(function () {
  'use strict';

  var main = document.querySelector('main[data-live]');
  if (!main) return;
  var mode = main.dataset.live;
  var fragmentURL = main.dataset.fragment;
  var part = document.getElementById('live-part');
  var connection = document.getElementById('connection');
  var announcer = document.getElementById('announcer');
  var socket = null;
  var failures = 0;
  var leaving = false;
  var refreshTimer = null;
  var refreshing = false;
  var refreshAgain = false;

  var words = {
    connecting: 'Connecting for live updates…',
    live: 'Live: changes show up here by themselves.',
    offline: 'Lost the connection to Bridges. Reconnecting…'
  };

  function setState(state) {
    if (!connection) return;
    connection.dataset.state = state;
    connection.textContent = words[state];
  }

  function announce(text) {
    if (!announcer || !text) return;
    announcer.textContent = '';
    window.setTimeout(function () { announcer.textContent = text; }, 50);
  }

  function subscription() {
    if (mode === 'session') {
      return { type: 'subscriptions.set', requestID: 'page', bridgeIDs: [], loginSessionIDs: [main.dataset.session] };
    }
    return { type: 'subscriptions.set', requestID: 'page', bridgeIDs: ['*'], loginSessionIDs: [] };
  }

  function connect() {
    setState(failures === 0 ? 'connecting' : 'offline');
    var scheme = window.location.protocol === 'https:' ? 'wss://' : 'ws://';
    try {
      socket = new WebSocket(scheme + window.location.host + '/v1/ws');
    } catch (error) {
      retryLater();
      return;
    }
    var readyTimer = null;
    socket.addEventListener('open', function () {
      // A socket that opens but is not signed in waits for a token this page never sends:
      // the page's session has ended, and reading the page says where to go instead.
      readyTimer = window.setTimeout(refresh, 2000);
    });
    socket.addEventListener('message', function (event) {
      var message;
      try { message = JSON.parse(event.data); } catch (error) { return; }
      if (message.type === 'ready') {
        window.clearTimeout(readyTimer);
        socket.send(JSON.stringify(subscription()));
      } else if (message.type === 'subscriptions.updated') {
        failures = 0;
        setState('live');
        // Whatever changed while the socket was away is read once now.
        scheduleRefresh();
      } else if (message.type !== 'error') {
        scheduleRefresh();
      }
    });
    socket.addEventListener('close', function (event) {
      window.clearTimeout(readyTimer);
      socket = null;
      if (leaving) return;
      if (event.code === 4401) {
        // The page's session ended: the server no longer signs this socket in.
        window.location.assign('/signin?ended=expired');
        return;
      }
      retryLater();
    });
  }

  function retryLater() {
    failures += 1;
    setState('offline');
    var delay = Math.min(15000, 500 * Math.pow(2, Math.min(failures, 5)));
    window.setTimeout(connect, delay);
  }

  function scheduleRefresh() {
    if (refreshTimer) return;
    refreshTimer = window.setTimeout(function () {
      refreshTimer = null;
      refresh();
    }, 40);
  }

  function refresh() {
    if (refreshing) { refreshAgain = true; return; }
    refreshing = true;
    window.fetch(fragmentURL, { credentials: 'same-origin', headers: { 'Accept': 'text/html' } })
      .then(function (response) {
        if (new URL(response.url).pathname === '/signin') {
          window.location.assign(response.url);
          return null;
        }
        if (!response.ok) throw new Error('status ' + response.status);
        return response.text();
      })
      .then(function (html) { if (html !== null) swap(html); })
      .catch(function () { setState('offline'); })
      .then(function () {
        refreshing = false;
        if (refreshAgain) { refreshAgain = false; refresh(); }
      });
  }

  // Finds the element that had focus again after its part was replaced.
  function focusKey(element) {
    if (!element || !part.contains(element)) return null;
    if (element.id) return '#' + element.id;
    if (element.getAttribute('href')) return 'a[href="' + element.getAttribute('href') + '"]';
    return null;
  }

  function swap(html) {
    var template = document.createElement('template');
    template.innerHTML = html.trim();
    var next = template.content.firstElementChild;
    if (!next) return;
    var before = focusKey(document.activeElement);
    if (mode === 'session') {
      var current = part.querySelector('[data-key]');
      // Same key, same screen: leave it alone, so nothing someone is typing is lost.
      if (current && current.dataset.key === next.dataset.key) return;
      var sameStep = current && current.dataset.step === next.dataset.step;
      part.replaceChildren(template.content);
      var heading = part.querySelector('h1');
      if (heading) document.title = heading.textContent + ' · Bridges';
      announce(next.dataset.announce);
      if (!sameStep && heading) {
        heading.focus();
        return;
      }
    } else {
      if (template.innerHTML.trim() === part.innerHTML.trim()) return;
      part.replaceChildren(template.content);
    }
    if (before) {
      var again = null;
      try { again = part.querySelector(before); } catch (error) { again = null; }
      if (again) again.focus();
    }
  }

  window.addEventListener('pagehide', function () {
    leaving = true;
    if (socket) socket.close(1000);
  });
  window.addEventListener('pageshow', function (event) {
    // Back from the back-forward cache: the socket was closed on the way out.
    if (event.persisted) {
      leaving = false;
      failures = 0;
      connect();
    }
  });

  connect();
})();
