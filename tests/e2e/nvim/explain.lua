-- What a user with only `vim.lsp.enable('ren')` (editors/nvim/examples/minimal.lua) gets: the
-- code actions, :RenExplain into an output document in a split, :RenAsk on a non-ASCII
-- charwise selection, progress in vim.notify and the statusline component.
local here = vim.fn.fnamemodify(debug.getinfo(1, 'S').source:sub(2), ':p:h')
local H = dofile(here .. '/harness.lua')

H.run(function()
  vim.cmd.runtime('plugin/ren.lua') -- what Neovim does at startup for an installed plugin
  dofile(H.plugin .. '/examples/minimal.lua')
  local buf, code_win = H.open('billing.py')
  local client = H.client(buf)
  -- The server indexes the workspace first (its own progress); the statusline checks below
  -- are about the user's request alone.
  H.wait_progress_end('Indexing workspace')
  H.data('encoding', client.offset_encoding)
  local ren = require('ren')
  local uri = vim.uri_from_bufnr(buf)

  -- The code actions, as `gra` / vim.lsp.buf.code_action() asks for them.
  local function titles(range, diagnostics)
    local params = { textDocument = { uri = uri }, range = range,
      context = { diagnostics = diagnostics or {}, triggerKind = 1 } }
    local res = vim.lsp.buf_request_sync(buf, 'textDocument/codeAction', params, 5000) or {}
    local answer = res[client.id] or {}
    return vim.tbl_map(function(a)
      return a.title
    end, answer.result or {})
  end
  local enc = client.offset_encoding
  local fn = ren.command_range(buf, { range = 2, line1 = 6, line2 = 9 }, enc)
  H.data('actions_selection', titles(fn))
  local todo = { start = { line = 16, character = 0 }, ['end'] = { line = 16, character = 0 } }
  H.data('actions_comment', titles(todo))
  local line13 = { start = { line = 12, character = 4 }, ['end'] = { line = 12, character = 9 } }
  H.data('actions_diagnostic', titles(fn, { { range = line13, message = 'undefined name',
    severity = 1 } }))

  -- :RenExplain on a linewise visual selection: the answer streams into a split.
  H.select('6GV9G')
  vim.cmd("'<,'>RenExplain")
  local out = H.wait_output('It defines `invoice_total`')
  local progress = H.wait_progress_end('Astra: Explain')
  if out then
    H.data('explain_output', H.text(out))
    local win = H.output_windows()[out]
    H.check(win ~= nil and win ~= code_win, 'explain output in a split of its own')
    H.check(#vim.api.nvim_tabpage_list_wins(0) == 2, 'two windows: code and output')
    H.check(vim.api.nvim_win_get_buf(code_win) == buf, 'the code window still shows the code')
    H.check(vim.bo[out].buftype == 'nowrite', 'output buffer is nowrite (no quit prompt)')
    H.check(vim.bo[out].filetype == 'markdown', 'output buffer is markdown')
    H.check(#vim.lsp.get_clients({ bufnr = out }) == 0, 'no client attached to the output')
  end
  if progress then
    H.data('explain_progress', progress)
    local kinds = vim.tbl_map(function(p)
      return p.kind
    end, progress)
    H.check(kinds[1] == 'begin' and kinds[#kinds] == 'end', 'progress begin .. end',
      table.concat(kinds, ','))
    H.check(vim.tbl_contains(kinds, 'report'), 'progress reports while streaming')
    H.check(progress[#progress].message:find('^Done') ~= nil, 'progress ends Done',
      progress[#progress].message)
    H.check(progress[1].status == 'Astra: Explain · waiting for Astra…',
      'statusline component shows the running request', progress[1].status)
    H.check(progress[#progress].status == '', 'statusline component cleared at the end',
      progress[#progress].status)
      end
  H.check(vim.iter(H.notes):any(function(n)
    return n.message:find('^Astra: Explain: Done') and n.level == vim.log.levels.INFO
  end), 'vim.notify: Explain done')

  -- :RenAsk on a charwise selection ending in a 3-byte character ("Café ☕").
  vim.api.nvim_set_current_win(code_win)
  vim.api.nvim_win_set_cursor(code_win, { 3, (vim.fn.getline(3):find('C', 1, true)) - 1 })
  H.select('v5l')
  vim.cmd("'<,'>RenAsk what is this?")
  local seen = { [out or -1] = true }
  local asked = H.wait_output('You asked: "what is this?"', seen)
  H.wait_progress_end('Astra: Ask')
  H.check(asked ~= nil, 'RenAsk output document')
end)
