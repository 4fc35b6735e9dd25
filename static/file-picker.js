// The file picker in Chinese: the browser's own button (its text in the browser's language) is hidden
// behind a label "选择文件", and the chosen file's name is shown beside it ("未选择文件" while none is).
(function () {
  if (window.dubanFilePicker) return; // pages loaded by Turbo run this script again
  window.dubanFilePicker = true;
  document.addEventListener("change", function (event) {
    var input = event.target;
    if (!input.classList || !input.classList.contains("duban-file__input")) return;
    var name = input.parentNode.querySelector(".duban-file__name");
    if (!name) return;
    var names = Array.prototype.map.call(input.files || [], function (file) { return file.name; });
    name.textContent = names.length ? names.join("、") : "未选择文件";
  });
})();
