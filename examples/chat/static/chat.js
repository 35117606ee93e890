// The chat page: joins its room with socket.get('/rooms/<name>') (history and
// who is here), shows every line broadcast to the room, sends what you type.
const room = document.body.dataset.room;
const lines = document.getElementById('lines');
const people = document.getElementById('people');
const say = document.getElementById('say');
const text = document.getElementById('text');

// Lines are kept in id order, once each: the history (sent again after a
// reconnect) and the broadcasts may overlap.
function show(line) {
  if (document.getElementById(`line-${line.id}`)) return;
  const item = document.createElement('li');
  item.id = `line-${line.id}`;
  item.dataset.id = line.id;
  item.title = new Date(line.at).toLocaleString();
  if (line.kind === 'said') {
    const nick = document.createElement('span');
    nick.className = 'nick';
    nick.textContent = line.nick;
    item.append(nick, line.text);
  } else {
    const notice = document.createElement('span');
    notice.className = 'notice';
    notice.textContent = `${line.nick} ${line.kind === 'joined' ? 'joined' : 'left'} #${room}`;
    item.append(notice);
  }
  const later = [...lines.children].find((other) => Number(other.dataset.id) > line.id);
  lines.insertBefore(item, later || null);
  lines.scrollTop = lines.scrollHeight;
}

function showPeople(nicks) {
  people.replaceChildren(
    ...nicks.map((nick) => {
      const item = document.createElement('li');
      item.textContent = nick;
      return item;
    }),
  );
}

socket.get(`/rooms/${room}`, (body, jwr) => {
  if (jwr.error) {
    show({ id: 0, kind: 'said', nick: 'error', text: body.error, at: new Date().toISOString() });
    return;
  }
  body.lines.forEach(show);
  showPeople(body.people);
});

socket.on('message', (message) => {
  if (message.room !== room) return;
  show(message.line);
  showPeople(message.people);
});

say.addEventListener('submit', (event) => {
  event.preventDefault();
  if (!text.value.trim()) return;
  socket.post(`/rooms/${room}/lines`, { text: text.value }).then(
    () => { text.value = ''; },
    (jwr) => alert(`Not sent: ${jwr.body && jwr.body.error}`),
  );
});

document.getElementById('new-room').addEventListener('submit', (event) => {
  event.preventDefault();
  const name = document.getElementById('room-name').value.trim().toLowerCase();
  if (/^[a-z0-9-]{1,30}$/.test(name)) location.href = `/r/${name}`;
});
