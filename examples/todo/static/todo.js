// The todo page. socket.get('/todo') lists the todos and subscribes this page's
// socket to every change; changes made elsewhere arrive as 'message' events:
//   {model: 'todo', verb: 'create' | 'update' | 'destroy', id, data}
// Changes made here come back as the answers to our own requests.
const list = document.getElementById('todos');
const form = document.getElementById('new-todo');
const title = document.getElementById('title');
const count = document.getElementById('count');

function itemOf(id) {
  return document.getElementById(`todo-${id}`);
}

// Add or refresh one todo's row, keeping rows in id order.
function show(todo) {
  let item = itemOf(todo.id);
  if (!item) {
    item = document.createElement('li');
    item.id = `todo-${todo.id}`;
    item.dataset.id = todo.id;
    item.innerHTML = `
      <label><input type="checkbox"><span class="title"></span></label>
      <button type="button" class="quiet" title="Delete">✕</button>`;
    item.querySelector('input').addEventListener('change', (event) => toggle(todo.id, event.target));
    item.querySelector('button').addEventListener('click', () => remove(todo.id));
    const later = [...list.children].find((other) => Number(other.dataset.id) > todo.id);
    list.insertBefore(item, later || null);
  }
  item.querySelector('.title').textContent = todo.title;
  item.querySelector('input').checked = todo.done;
  item.classList.toggle('done', todo.done);
  count.textContent = countText();
}

function hide(id) {
  const item = itemOf(id);
  if (item) item.remove();
  count.textContent = countText();
}

function countText() {
  const all = list.children.length;
  const left = list.querySelectorAll('li:not(.done)').length;
  return all ? `${left} of ${all} left` : 'Nothing to do.';
}

function toggle(id, checkbox) {
  socket.patch(`/todo/${id}`, { done: checkbox.checked }).then(show, () => {
    checkbox.checked = !checkbox.checked; // not saved: put it back
  });
}

function remove(id) {
  socket.delete(`/todo/${id}`).then(() => hide(id));
}

form.addEventListener('submit', (event) => {
  event.preventDefault();
  const text = title.value.trim();
  if (!text) return;
  socket.post('/todo', { title: text }).then((todo) => {
    show(todo);
    title.value = '';
  });
});

// Also called again with a fresh list after the socket reconnects.
socket.get('/todo', (todos, jwr) => {
  if (jwr.error) return;
  const ids = new Set(todos.map((todo) => todo.id));
  for (const item of [...list.children]) {
    if (!ids.has(Number(item.dataset.id))) item.remove();
  }
  todos.forEach(show);
  count.textContent = countText();
});

socket.on('message', (message) => {
  if (message.model !== 'todo') return;
  if (message.verb === 'destroy') {
    hide(message.id);
  } else {
    show({ ...message.data, id: message.id });
  }
});
