-- Inline completion on Neovim 0.11 (no built-in inline completion): the plugin asks ren-lsp at
-- the cursor, shows the answer as ghost text (extmarks), and accepting puts it in the buffer.
local here = vim.fn.fnamemodify(debug.getinfo(1, 'S').source:sub(2), ':p:h')
local H = dofile(here .. '/harness.lua')

H.run(function()
  require('ren').setup({ settings = { completion = { enabled = true } } })
  local completion = require('ren.completion')
  H.check(not completion.builtin(), 'Neovim has no built-in inline completion: the plugin draws')
  local buf, win = H.open('billing.py')
  H.client(buf)
  H.check(vim.fn.maparg('<M-l>', 'i', false, true).buffer == 1, 'accept key mapped in the buffer')
  -- Insert mode puts the cursor after the line's end; so does onemore in this script.
  vim.o.virtualedit = 'onemore'
  -- A new indented blank line in paginate, the cursor at its end, as after `o` and four spaces.
  local row = vim.fn.search('start = 0 if cursor')
  vim.api.nvim_buf_set_lines(buf, row, row, false, { '    ' })
  vim.api.nvim_win_set_cursor(win, { row + 1, 4 })
  completion.request(buf, 1) -- what the trigger key does
  H.wait(10000, function() return completion.current(buf) ~= nil end, 'an answer')
  H.check(completion.current(buf) ~= nil, 'a suggestion is shown')
  local marks = vim.api.nvim_buf_get_extmarks(buf, vim.api.nvim_create_namespace('ren.completion'),
    0, -1, { details = true })
  local ghost = {}
  for _, mark in ipairs(marks) do
    local details = mark[4]
    table.insert(ghost, { row = mark[2], col = mark[3], inline = details.virt_text[1][1],
      below = vim.tbl_map(function(l) return l[1][1] end, details.virt_lines or {}) })
  end
  H.data('ghost', ghost)
  H.data('before', H.text(buf))
  H.check(completion.accept(buf), 'the suggestion is accepted')
  H.check(#vim.api.nvim_buf_get_extmarks(buf, vim.api.nvim_create_namespace('ren.completion'),
    0, -1, {}) == 0, 'the ghost text is gone once accepted')
  H.data('after', H.text(buf))
  H.data('cursor', vim.api.nvim_win_get_cursor(win))
end)
