--- Astra's inline completion (ghost text) in Neovim, over ren-lsp's textDocument/inlineCompletion.
---
--- Neovim 0.12+ has it built in (`vim.lsp.inline_completion`): it is enabled for ren-lsp's
--- buffers and this module draws nothing itself. On 0.11 this module shows the suggestion as
--- extmarks after the cursor: the rest of the line inline, further lines below it. Accept it
--- with `accept` (default <M-l>), ask for one with `trigger` (default <M-\>); moving the cursor,
--- leaving insert mode or leaving the buffer dismisses it. Suggestions come as you type only
--- when ren-lsp's `completion.enabled` setting is on: `settings = { completion = { enabled =
--- true } }`.
local M = {}

local METHOD = 'textDocument/inlineCompletion'
local ns = vim.api.nvim_create_namespace('ren.completion')
--- bufnr -> { row, col, tick, text, range, mark } of the suggestion on show
local shown = {}
--- bufnr -> { client, id } of the request in flight
local pending = {}

M.defaults = { accept = '<M-l>', trigger = '<M-\\>' }

function M.builtin()
  return vim.lsp.inline_completion ~= nil and vim.lsp.inline_completion.enable ~= nil
end

--- Remove the suggestion shown in `bufnr`.
function M.dismiss(bufnr)
  bufnr = (bufnr == nil or bufnr == 0) and vim.api.nvim_get_current_buf() or bufnr
  shown[bufnr] = nil
  if vim.api.nvim_buf_is_valid(bufnr) then
    vim.api.nvim_buf_clear_namespace(bufnr, ns, 0, -1)
  end
end

--- The suggestion shown in `bufnr` (nil when none): its text and where it goes.
function M.current(bufnr)
  return shown[(bufnr == nil or bufnr == 0) and vim.api.nvim_get_current_buf() or bufnr]
end

local function draw(bufnr, row, col, text)
  vim.api.nvim_buf_clear_namespace(bufnr, ns, 0, -1)
  local lines = vim.split(text, '\n', { plain = true })
  local extra = {}
  for i = 2, #lines do
    table.insert(extra, { { lines[i], 'Comment' } })
  end
  return vim.api.nvim_buf_set_extmark(bufnr, ns, row, col, {
    virt_text = { { lines[1], 'Comment' } },
    virt_text_pos = 'inline',
    virt_lines = #extra > 0 and extra or nil,
    hl_mode = 'combine',
  })
end

--- Ask ren-lsp for a completion at the cursor; `kind` 1 (invoked) or 2 (automatic).
function M.request(bufnr, kind)
  bufnr = (bufnr == nil or bufnr == 0) and vim.api.nvim_get_current_buf() or bufnr
  local client = vim.lsp.get_clients({ bufnr = bufnr, name = 'ren' })[1]
  if not client then
    return
  end
  local previous = pending[bufnr]
  if previous then -- the server answers it empty anyway; this frees Neovim's side at once
    previous.client:cancel_request(previous.id)
    pending[bufnr] = nil
  end
  local win = vim.api.nvim_get_current_win()
  local row, col = unpack(vim.api.nvim_win_get_cursor(win))
  local tick = vim.api.nvim_buf_get_changedtick(bufnr)
  local params = vim.lsp.util.make_position_params(win, client.offset_encoding)
  params.context = { triggerKind = kind or 1 }
  local ok, id = client:request(METHOD, params, function(err, result)
    if pending[bufnr] and pending[bufnr].id == id then
      pending[bufnr] = nil
    end
    M.dismiss(bufnr)
    local items = result and (result.items or result) or {}
    local item = items[1]
    local now_row, now_col = unpack(vim.api.nvim_win_get_cursor(win))
    if err or not item or vim.api.nvim_buf_get_changedtick(bufnr) ~= tick
      or now_row ~= row or now_col ~= col then
      return -- nothing, or a suggestion for text that is no longer there
    end
    local text = type(item.insertText) == 'table' and item.insertText.value or item.insertText
    if text == nil or text == '' then
      return
    end
    shown[bufnr] = { row = row - 1, col = col, tick = tick, text = text, range = item.range,
                     encoding = client.offset_encoding, mark = draw(bufnr, row - 1, col, text) }
  end, bufnr)
  if ok then
    pending[bufnr] = { client = client, id = id }
  end
end

--- Put the shown suggestion into the buffer; false when there is none.
function M.accept(bufnr)
  bufnr = (bufnr == nil or bufnr == 0) and vim.api.nvim_get_current_buf() or bufnr
  local s = shown[bufnr]
  if not s or vim.api.nvim_buf_get_changedtick(bufnr) ~= s.tick then
    M.dismiss(bufnr)
    return false
  end
  M.dismiss(bufnr)
  local start_col, end_col = s.col, s.col
  if s.range then -- the item may replace a part of the line (a selected completion item)
    local line = vim.api.nvim_buf_get_lines(bufnr, s.row, s.row + 1, false)[1] or ''
    start_col = vim.str_byteindex(line, s.encoding, s.range.start.character, false)
    end_col = vim.str_byteindex(line, s.encoding, s.range['end'].character, false)
  end
  local lines = vim.split(s.text, '\n', { plain = true })
  vim.api.nvim_buf_set_text(bufnr, s.row, start_col, s.row, end_col, lines)
  local last_row = s.row + #lines - 1
  local last_col = (#lines == 1 and start_col or 0) + #lines[#lines]
  vim.api.nvim_win_set_cursor(0, { last_row + 1, last_col })
  return true
end

--- Start completion for a buffer ren-lsp attached to (from LspAttach).
function M.attach(bufnr, client, opts)
  opts = vim.tbl_extend('force', M.defaults, opts or {})
  if M.builtin() then
    vim.lsp.inline_completion.enable(true, { client_id = client.id, bufnr = bufnr })
    return
  end
  local auto = vim.tbl_get(opts, 'settings', 'completion', 'enabled') == true
  local group = vim.api.nvim_create_augroup('ren.completion.' .. bufnr, { clear = true })
  vim.api.nvim_create_autocmd('TextChangedI', {
    group = group, buffer = bufnr,
    callback = function() M.dismiss(bufnr); if auto then M.request(bufnr, 2) end end,
  })
  vim.api.nvim_create_autocmd({ 'CursorMovedI', 'InsertLeave', 'BufLeave' }, {
    group = group, buffer = bufnr,
    callback = function(ev)
      local s = shown[bufnr]
      if s and ev.event == 'CursorMovedI' then
        local row, col = unpack(vim.api.nvim_win_get_cursor(0))
        if row - 1 == s.row and col == s.col then
          return
        end
      end
      M.dismiss(bufnr)
    end,
  })
  vim.keymap.set('i', opts.accept, function()
    if not M.accept(bufnr) then -- no suggestion: the key does what it did
      vim.api.nvim_feedkeys(vim.keycode(opts.accept), 'n', false)
    end
  end, { buffer = bufnr, desc = 'Astra: accept the suggestion' })
  vim.keymap.set('i', opts.trigger, function() M.request(bufnr, 1) end,
    { buffer = bufnr, desc = 'Astra: suggest a completion' })
end

return M
