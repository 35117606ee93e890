// The welcome page: sends socket.get('/echo', {message}) and shows the answer,
// then the latest echoes the server stored (GET /echoes, over the socket too).
const form = document.getElementById('echo-form');
const input = document.getElementById('message');
const shown = document.getElementById('shown-message');
const answer = document.getElementById('answer');
const echoes = document.getElementById('echoes');

input.addEventListener('input', () => {
  shown.textContent = input.value;
});

form.addEventListener('submit', (event) => {
  event.preventDefault();
  socket.get('/echo', { message: input.value }, (body, jwr) => {
    answer.classList.remove('muted');
    answer.textContent = `${jwr.statusCode} ${JSON.stringify(body, null, 2)}`;
    listEchoes();
  });
});

function listEchoes() {
  socket.get('/echoes', (rows) => {
    echoes.replaceChildren(
      ...rows.map((row) => {
        const item = document.createElement('li');
        item.textContent = `${row.message} (over ${row.via}, ${new Date(row.at).toLocaleTimeString()})`;
        return item;
      }),
    );
  });
}

listEchoes();
