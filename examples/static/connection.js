// The connection badge of the demo pages: shows what the global `socket`
// (from sockpub.js) is doing, in the element with id "connection".
(function () {
  const badge = document.getElementById('connection');

  function show(state, text) {
    badge.dataset.state = state;
    badge.textContent = text;
    badge.title = state === 'connected' ? `socket id ${socket.raw.id}` : '';
  }

  socket.on('connect', () => show('connected', 'connected'));
  socket.on('disconnect', () => show('disconnected', 'disconnected: reconnecting…'));
  socket.on('reconnecting', (attempt) => show('disconnected', `reconnecting (attempt ${attempt})…`));
  socket.on('connect_error', (error) => show('disconnected', `cannot connect: ${error.message}`));
  if (socket.isConnected()) show('connected', 'connected');
})();
