--- ren.nvim: Astra (the coding model behind the Ren API) in Neovim, through ren-lsp.
---
--- Neovim 0.11+: `vim.lsp.enable('ren')` is all you need (the configuration is in lsp/ren.lua).
--- `require('ren').setup({...})` sets options, and on Neovim 0.10 starts the server itself.
---
--- The API key is never read, stored or passed by this plugin: ren-lsp takes it from
--- REN_API_KEY in the environment Neovim was started from, or from apiKeyCommand.
local M = {}

M.name = 'ren'

-- snippet: defaults
M.defaults = {
  -- ren-lsp settings, camelCase (see schemas/settings.schema.json), e.g. { maxTokens = 8192 }.
  -- Never put your key here: export REN_API_KEY, or set apiKeyCommand.
  settings = {},
  -- where output documents (Explain, Ask) open: 'right', 'left', 'above', 'below' or 'tab'
  split = 'right',
  -- move the cursor into a new output window: nil = as the server asks (it does), true, false
  focus = nil,
  -- vim.notify when a request starts and ends (failures are shown by the server itself)
  notify = true,
  -- start ren-lsp for file buffers: vim.lsp.enable('ren') on 0.11+, an autocmd on 0.10
  enable = true,
  -- 'start': start it with vim.lsp.start from a FileType autocmd even on 0.11 (as on 0.10)
  start_with = 'enable',
  -- anything else for the LSP client config, e.g. { cmd = { '/path/to/ren-lsp' } }
  lsp = {},
  -- :RenAgent's verification command (a buffer's b:ren_verify wins), e.g. 'pytest -q'
  verify = nil,
  -- inline completion (ghost text; built in on Neovim 0.12): keys in insert mode, or false.
  -- Suggestions as you type need settings = { completion = { enabled = true } }.
  completion = { accept = '<M-l>', trigger = '<M-\\>' },
}
-- end snippet

M.options = vim.deepcopy(M.defaults)

--- Files the project root is found by (the nearest directory holding one).
M.root_markers = { '.git', '.hg', '.jj' }

local has_011 = vim.fn.has('nvim-0.11') == 1
local levels = vim.log.levels

local function notify(message, level)
  vim.notify(message, level or levels.INFO, { title = 'ren' })
end

--- True for ren-lsp's output documents (`<state dir>/ren-lsp/sessions/*.md`).
function M.is_output(name)
  if not name or name == '' then
    return false
  end
  name = name:gsub('\\', '/')
  return name:find('/ren%-lsp/sessions/[^/]+$') ~= nil
end

--- `root_dir` of the LSP config: the project root, or none (one client for loose files).
--- Buffers without a file and ren-lsp's own output documents get no client.
function M.root_dir(bufnr, on_dir)
  local name = vim.api.nvim_buf_get_name(bufnr)
  if name == '' or M.is_output(name) or name:match('^%a[%w+.-]*://') then
    return
  end
  on_dir(vim.fs.root(bufnr, M.root_markers))
end

-- Output documents ---------------------------------------------------------------------------

--- Prepare a buffer an output document streams into: loaded, listed, and `buftype=nowrite`
--- (no "No write since last change" when you quit; `:w other.md` keeps a copy; every answer
--- is also in history.jsonl next to the sessions folder).
local function output_buffer(uri)
  local bufnr = vim.uri_to_bufnr(uri)
  if not vim.api.nvim_buf_is_loaded(bufnr) then
    vim.fn.bufload(bufnr)
  end
  if M.is_output(vim.api.nvim_buf_get_name(bufnr)) then
    vim.bo[bufnr].buflisted = true
    vim.bo[bufnr].buftype = 'nowrite'
    vim.bo[bufnr].swapfile = false
  end
  return bufnr
end

--- window/showDocument for our client: open the document in a split (once), not in place of
--- the code you are working on.
function M.show_document(err, params, ctx, ...)
  if params.external then
    return vim.lsp.handlers['window/showDocument'](err, params, ctx, ...)
  end
  local bufnr = output_buffer(params.uri)
  local focus = M.options.focus
  if focus == nil then
    focus = params.takeFocus == true
  end
  local win = vim.fn.bufwinid(bufnr)
  if win == -1 then
    if M.options.split == 'tab' then
      local current = vim.api.nvim_get_current_tabpage()
      vim.cmd.tabnew()
      win = vim.api.nvim_get_current_win()
      local scratch = vim.api.nvim_get_current_buf()
      vim.api.nvim_win_set_buf(win, bufnr)
      if scratch ~= bufnr and vim.api.nvim_buf_is_valid(scratch) then
        vim.api.nvim_buf_delete(scratch, { force = true })
      end
      if not focus then
        vim.api.nvim_set_current_tabpage(current)
      end
    else
      win = vim.api.nvim_open_win(bufnr, focus, { split = M.options.split, win = 0 })
    end
  elseif focus then
    vim.api.nvim_set_current_win(win)
  end
  local selection = params.selection
  if selection and vim.api.nvim_win_is_valid(win) then
    pcall(vim.api.nvim_win_set_cursor, win, { selection.start.line + 1, 0 })
  end
  return { success = true }
end

--- workspace/applyEdit for our client: Neovim's own, plus output documents set up as above
--- and followed (windows showing one, other than the current, scroll to its end).
function M.apply_edit(err, params, ctx, ...)
  local outputs = {}
  local edit = params and params.edit or {}
  local uris = {}
  for _, change in ipairs(edit.documentChanges or {}) do
    if change.textDocument then
      table.insert(uris, change.textDocument.uri)
    end
  end
  for uri in pairs(edit.changes or {}) do
    table.insert(uris, uri)
  end
  for _, uri in ipairs(uris) do
    if M.is_output(vim.uri_to_fname(uri)) then
      outputs[output_buffer(uri)] = true
    end
  end
  local result = vim.lsp.handlers['workspace/applyEdit'](err, params, ctx, ...)
  local current = vim.api.nvim_get_current_win()
  for bufnr in pairs(outputs) do
    for _, win in ipairs(vim.fn.win_findbuf(bufnr)) do
      if win ~= current then
        vim.api.nvim_win_set_cursor(win, { vim.api.nvim_buf_line_count(bufnr), 0 })
      end
    end
  end
  return result
end

-- The LSP client configuration ------------------------------------------------------------------

--- The configuration lsp/ren.lua returns (Neovim 0.11 merges `vim.lsp.config('ren', …)` over
--- it); on 0.10, `setup()` starts the server with it.
function M.lsp_config()
  return {
    cmd = { 'ren-lsp' },
    root_dir = M.root_dir,
    -- Send each change at once: Neovim's default 150 ms delay leaves ren-lsp placing a
    -- finished refactor by positions that are 150 ms old (Neovim 0.11 sends unversioned edits).
    flags = { debounce_text_changes = 0 },
    handlers = {
      ['window/showDocument'] = M.show_document,
      ['workspace/applyEdit'] = M.apply_edit,
      ['window/showMessageRequest'] = function(...)
        return require('ren.pullrequest').message_request(...)
      end,
    },
  }
end

--- What `setup()` adds to the LSP config: the settings and `options.lsp`.
local function overrides(opts)
  local extra = vim.deepcopy(opts.lsp or {})
  if next(opts.settings or {}) then
    extra.settings = vim.tbl_deep_extend('force', extra.settings or {}, { ren = opts.settings })
    extra.init_options = vim.tbl_deep_extend('force', extra.init_options or {}, opts.settings)
  end
  return extra
end

--- The LSP config in effect (lsp/ren.lua and every override), e.g. for :checkhealth ren.
function M.resolved_config()
  local base = has_011 and vim.lsp.config[M.name] or M.lsp_config()
  if has_011 and M.options.start_with ~= 'start' then
    return base -- setup() put its overrides into vim.lsp.config
  end
  return vim.tbl_deep_extend('force', base, overrides(M.options))
end

--- Start (or reuse) the client for a buffer with vim.lsp.start: the Neovim 0.10 way.
function M.start(bufnr)
  bufnr = bufnr == 0 and vim.api.nvim_get_current_buf() or bufnr
  if vim.bo[bufnr].buftype ~= '' then
    return
  end
  local config = vim.deepcopy(M.resolved_config())
  if config.filetypes and not vim.tbl_contains(config.filetypes, vim.bo[bufnr].filetype) then
    return
  end
  M.root_dir(bufnr, function(root)
    config.name, config.root_dir = M.name, root
    vim.lsp.start(config, { bufnr = bufnr })
  end)
end

-- Commands -------------------------------------------------------------------------------------

local function clients(bufnr)
  return vim.lsp.get_clients({ bufnr = bufnr, name = M.name })
end

local function client_for(bufnr, anywhere)
  local found = clients(bufnr)[1]
  if not found and anywhere then
    found = vim.lsp.get_clients({ name = M.name })[1]
  end
  if not found then
    notify('ren-lsp is not running for this buffer (see :checkhealth ren)', levels.WARN)
  end
  return found
end

local function line_text(bufnr, row)
  return vim.api.nvim_buf_get_lines(bufnr, row, row + 1, false)[1] or ''
end

--- An LSP position from a 0-based row and byte column, in the client's position encoding
--- (Neovim 0.11 negotiates utf-8, utf-16 or utf-32 per client).
local function position(bufnr, row, col, encoding)
  local character = col > 0 and vim.lsp.util.character_offset(bufnr, row, col, encoding) or 0
  return { line = row, character = character }
end

--- Bytes in the UTF-8 character that starts at byte `col` (0-based) of `line`.
local function char_bytes(line, col)
  local byte = line:byte(col + 1)
  if not byte then
    return 0
  end
  return byte >= 0xF0 and 4 or byte >= 0xE0 and 3 or byte >= 0xC0 and 2 or 1
end

--- The range a command works on: the visual selection, the lines of a :range, or nil.
---
--- A charwise selection ends after its last character, whatever its width: vim.lsp.util's
--- make_given_range_params adds one code unit instead, which cuts a non-ASCII last character.
function M.command_range(bufnr, opts, encoding)
  if not opts or (opts.range or 0) == 0 then
    return nil
  end
  local first, last = opts.line1, opts.line2
  local vstart = vim.api.nvim_buf_get_mark(bufnr, '<')
  local vend = vim.api.nvim_buf_get_mark(bufnr, '>')
  if opts.range == 2 and vim.fn.visualmode() == 'v' and vstart[1] == first and vend[1] == last then
    local text = line_text(bufnr, last - 1)
    local col = math.min(vend[2], math.max(#text - 1, 0)) -- `$` puts the mark past the end
    local stop = col + char_bytes(text, col)
    if vim.o.selection == 'exclusive' then
      stop = math.min(vend[2], #text)
    end
    return {
      start = position(bufnr, first - 1, vstart[2], encoding),
      ['end'] = position(bufnr, last - 1, stop, encoding),
    }
  end
  local stop
  if last < vim.api.nvim_buf_line_count(bufnr) then
    stop = { line = last, character = 0 }
  else -- the last line: its end (a position after the final newline may not exist)
    stop = position(bufnr, last - 1, #line_text(bufnr, last - 1), encoding)
  end
  return { start = { line = first - 1, character = 0 }, ['end'] = stop }
end

--- The paragraph (non-blank lines) around the cursor, as whole lines; nil on a blank line.
function M.paragraph_range(bufnr, encoding)
  local row = vim.api.nvim_win_get_cursor(0)[1] - 1
  local function blank(r)
    return not line_text(bufnr, r):find('%S')
  end
  if blank(row) then
    return nil
  end
  local count = vim.api.nvim_buf_line_count(bufnr)
  local first, last = row, row
  while first > 0 and not blank(first - 1) do
    first = first - 1
  end
  while last + 1 < count and not blank(last + 1) do
    last = last + 1
  end
  return M.command_range(bufnr, { range = 1, line1 = first + 1, line2 = last + 1 }, encoding)
end

local function target_range(bufnr, opts, encoding, what)
  local range = M.command_range(bufnr, opts, encoding) or M.paragraph_range(bufnr, encoding)
  if not range then
    notify(('Select the code to %s, or put the cursor in it'):format(what), levels.WARN)
  end
  return range
end

--- The buffer's diagnostics on the range's lines, as LSP diagnostics in `encoding`.
local function diagnostics_in(bufnr, range, encoding)
  local last = range['end'].line
  if range['end'].character == 0 and last > range.start.line then
    last = last - 1
  end
  local found = {}
  for _, d in ipairs(vim.diagnostic.get(bufnr)) do
    if d.lnum >= range.start.line and d.lnum <= last then
      table.insert(found, {
        range = {
          start = position(bufnr, d.lnum, d.col, encoding),
          ['end'] = position(bufnr, d.end_lnum or d.lnum, d.end_col or d.col, encoding),
        },
        message = d.message,
        severity = d.severity,
        source = d.source,
        code = (type(d.code) == 'string' or type(d.code) == 'number') and d.code or nil,
      })
    end
  end
  return found
end

--- Run a ren.* command with its one argument object; the answer ({session = id}) comes at once,
--- the result through progress, edits and messages.
function M.execute(client, bufnr, command, arg, on_result)
  local function handler(err, result)
    if err then
      notify(('%s: %s'):format(command, err.message or vim.inspect(err)), levels.ERROR)
      return
    end
    if type(result) == 'table' and result.session then
      M.last_session = result.session
    end
    if on_result then
      on_result(result)
    end
  end
  local params = { command = command, arguments = { arg } }
  if has_011 then
    client:exec_cmd({ title = command, command = command, arguments = { arg } },
      { bufnr = bufnr }, handler)
  else
    client.request('workspace/executeCommand', params, handler, bufnr)
  end
end

local function prepare(opts)
  local bufnr = vim.api.nvim_get_current_buf()
  local client = client_for(bufnr, false)
  if not client then
    return nil
  end
  return bufnr, client, client.offset_encoding or 'utf-16'
end

--- Run `command` on the selection (or the paragraph at the cursor); `extra(arg, bufnr, range,
--- encoding)` adds the command's own fields to the argument `{uri, range}`.
local function on_range(opts, command, extra)
  local bufnr, client, encoding = prepare(opts)
  if not bufnr then
    return
  end
  local range = target_range(bufnr, opts, encoding, (command:gsub('^ren%.', '')))
  if range then
    local arg = { uri = vim.uri_from_bufnr(bufnr), range = range }
    if extra then
      extra(arg, bufnr, range, encoding)
    end
    M.execute(client, bufnr, command, arg)
  end
end

--- :RenExplain — explains the selection (or the paragraph at the cursor) in an output document.
function M.explain(opts)
  on_range(opts, 'ren.explain')
end

--- :RenRefactor [instruction] — rewrites the selection (or paragraph) in one edit.
function M.refactor(opts)
  on_range(opts, 'ren.refactor', function(arg)
    if opts and opts.args and opts.args ~= '' then
      arg.instruction = opts.args
    end
  end)
end

--- :RenFix — fixes the selection (or paragraph), sending the diagnostics on those lines.
function M.fix(opts)
  on_range(opts, 'ren.fix', function(arg, bufnr, range, encoding)
    local found = diagnostics_in(bufnr, range, encoding)
    if #found > 0 then
      arg.diagnostics = found
    end
  end)
end

--- :RenGenerate {instruction} — writes new code after the cursor line (or after the range).
--- Without an instruction, on a comment line: the comment is the instruction.
function M.generate(opts)
  local bufnr, client, encoding = prepare(opts)
  if not bufnr then
    return
  end
  local uri = vim.uri_from_bufnr(bufnr)
  local range = M.command_range(bufnr, opts, encoding)
  local row = vim.api.nvim_win_get_cursor(0)[1] - 1
  local instruction = opts and opts.args or ''
  if instruction == '' then
    -- the server's "Generate from this comment" action knows what a comment asks for
    local line = range and range.start.line or row
    local params = {
      textDocument = { uri = uri },
      range = { start = { line = line, character = 0 }, ['end'] = { line = line, character = 0 } },
      context = { diagnostics = {}, only = { 'refactor.rewrite.ren.generate' } },
    }
    local function on_actions(err, actions)
      local action = not err and actions and actions[1]
      if not action or not action.command then
        notify('RenGenerate: give an instruction, or put the cursor on a comment describing '
          .. 'the code', levels.WARN)
        return
      end
      M.execute(client, bufnr, action.command.command, action.command.arguments[1])
    end
    if has_011 then
      client:request('textDocument/codeAction', params, on_actions, bufnr)
    else
      client.request('textDocument/codeAction', params, on_actions, bufnr)
    end
    return
  end
  local arg = { uri = uri, instruction = instruction }
  if range then
    arg.range = range
  else
    arg.position = { line = row, character = 0 }
  end
  M.execute(client, bufnr, 'ren.generate', arg)
end

--- Run `command` with `arg` from any buffer (the first ren client when this one has none);
--- with a range in a buffer the client is attached to, the argument also gets {uri, range}.
local function with_optional_range(opts, command, arg)
  local bufnr = vim.api.nvim_get_current_buf()
  local attached = clients(bufnr)[1]
  local client = attached or client_for(bufnr, true)
  if not client then
    return
  end
  if attached and (command == 'ren.ask' or (opts.range and opts.range > 0)) then
    local range = M.command_range(bufnr, opts, client.offset_encoding or 'utf-16')
    if range then
      arg.uri, arg.range = vim.uri_from_bufnr(bufnr), range
    end
  end
  M.execute(client, bufnr, command, arg, function(result)
    if command == 'ren.agent' then
      M.last_agent = result and result.session or M.last_agent
    end
  end)
end

--- :RenAsk {question} — answers in an output document; with a range, about that code.
function M.ask(opts)
  local question = opts and opts.args or ''
  if question == '' then
    notify('RenAsk: what is your question?', levels.WARN)
    return
  end
  with_optional_range(opts, 'ren.ask', { question = question })
end

--- :RenAgent {task} — plans, runs and verifies a multi-step change; the server asks before each
--- command (Neovim shows it with vim.ui.select); with a range, the task is about that code.
function M.agent(opts)
  local task = opts and opts.args or ''
  if task == '' then
    notify('RenAgent: what should the agent do?', levels.WARN)
    return
  end
  local arg = { task = task }
  local verify = vim.b[vim.api.nvim_get_current_buf()].ren_verify or M.options.verify
  if verify and verify ~= '' then
    arg.verify = verify
  end
  with_optional_range(opts, 'ren.agent', arg)
end

--- :RenUndo [session] — puts back the files that agent run changed (default: the last run),
--- except files changed since, which the server names.
function M.undo(opts)
  local session = opts and opts.args ~= '' and opts.args or M.last_agent
  if not session then
    notify('RenUndo: no agent run to undo yet', levels.WARN)
    return
  end
  local client = vim.lsp.get_clients({ name = M.name })[1]
  if not client then
    notify('ren-lsp is not running', levels.WARN)
    return
  end
  M.execute(client, 0, 'ren.undo', { session = session })
end

--- :RenCancel [session] — cancels that session, or every running one, in every ren client.
function M.cancel(opts)
  local session = opts and opts.args or ''
  local all = vim.lsp.get_clients({ name = M.name })
  if #all == 0 then
    notify('ren-lsp is not running', levels.WARN)
    return
  end
  local arg = session ~= '' and { session = session } or vim.empty_dict()
  local pending, cancelled = #all, 0
  for _, client in ipairs(all) do
    M.execute(client, 0, 'ren.cancel', arg, function(result)
      cancelled = cancelled + #(result and result.cancelled or {})
      pending = pending - 1
      if pending == 0 and cancelled == 0 and M.options.notify then
        notify('Nothing to cancel')
      end
    end)
  end
end

--- :RenPullRequest[!] [title] — branches, commits, pushes and opens a pull request of the
--- workspace's changes; Astra writes what is not given, a preview opens and Neovim asks to
--- confirm, with "Edit the preview first" (ren/pullrequest.lua; with !, it is created without
--- asking).
function M.pull_request(opts)
  local bufnr = vim.api.nvim_get_current_buf()
  local client = clients(bufnr)[1] or client_for(bufnr, true)
  if not client then
    return
  end
  local arg = {}
  local title = opts and opts.args or ''
  if title ~= '' then
    arg.title = title
  end
  if opts and opts.bang then
    arg.yes = true
  end
  M.execute(client, bufnr, 'ren.createPullRequest', next(arg) and arg or vim.empty_dict(),
    function(result)
      if result and result.session then
        require('ren.pullrequest').started(client.id, result.session)
      end
    end)
end

local commands = {
  { 'RenExplain', 'explain', { range = true, desc = 'Astra: explain the selection' } },
  { 'RenRefactor', 'refactor', { range = true, nargs = '*', desc = 'Astra: refactor' } },
  { 'RenFix', 'fix', { range = true, desc = 'Astra: fix the diagnostics in the selection' } },
  { 'RenGenerate', 'generate', { range = true, nargs = '*', desc = 'Astra: write new code' } },
  { 'RenAsk', 'ask', { range = true, nargs = '*', desc = 'Astra: answer a question' } },
  { 'RenAgent', 'agent', { range = true, nargs = '*', desc = 'Astra: run the agent on a task' } },
  { 'RenUndo', 'undo', { nargs = '?', desc = 'Astra: undo an agent run' } },
  { 'RenCancel', 'cancel', { nargs = '?', desc = 'Astra: cancel running requests' } },
  { 'RenPullRequest', 'pull_request', { nargs = '*', bang = true,
    desc = 'Astra: create a pull request of the changes' } },
}

function M.create_commands()
  for _, c in ipairs(commands) do
    vim.api.nvim_create_user_command(c[1], function(opts)
      M[c[2]](opts)
    end, c[3])
  end
end

-- Progress ---------------------------------------------------------------------------------

--- Running requests of ren clients, by progress token: { title, message, client_id }.
M.progress = {}
local order = {}

local function on_progress(ev)
  local data = ev.data or {}
  local client = data.client_id and vim.lsp.get_client_by_id(data.client_id)
  if not client or client.name ~= M.name or not data.params then
    return
  end
  local token, value = data.params.token, data.params.value or {}
  if value.kind == 'begin' then
    M.progress[token] = { title = value.title, message = value.message, client_id = client.id }
    table.insert(order, token)
    if M.options.notify then
      notify(('%s: %s'):format(value.title, value.message or '…'))
    end
  elseif value.kind == 'report' and M.progress[token] then
    M.progress[token].message = value.message or M.progress[token].message
  elseif value.kind == 'end' then
    local running = M.progress[token]
    M.progress[token] = nil
    order = vim.tbl_filter(function(t)
      return t ~= token
    end, order)
    local message = value.message or 'done'
    -- failures come with the server's own message (window/showMessage): no second one
    if M.options.notify and running and not message:find('^Failed') then
      local level = message:find('^Cancelled') and levels.WARN
        or message:find('^Not applied') and levels.WARN or levels.INFO
      notify(('%s: %s'):format(running.title, message), level)
    end
  end
  vim.cmd.redrawstatus({ bang = true, mods = { emsg_silent = true } })
end

--- For your statusline: the latest running request, e.g. "Astra: Explain · 42 tokens · …",
--- or "" when none runs. `vim.o.statusline = '%f %= %{v:lua.require("ren").status()} %l:%c'`
function M.status()
  local token = order[#order]
  local running = token and M.progress[token]
  if not running then
    return ''
  end
  local text = running.title .. (running.message and (' · ' .. running.message) or '')
  if #order > 1 then
    text = ('%s (+%d)'):format(text, #order - 1)
  end
  return vim.fn.strcharlen(text) > 60 and (vim.fn.strcharpart(text, 0, 59) .. '…') or text
end

local group

--- Inline completion for the buffers ren-lsp attaches to (unless `completion = false`).
local function on_attach(ev)
  local client = vim.lsp.get_client_by_id(ev.data.client_id)
  if not client or client.name ~= M.name or M.options.completion == false then
    return
  end
  local config = client.config or {}
  local enabled = vim.tbl_get(M.options, 'settings', 'completion', 'enabled')
    or vim.tbl_get(config, 'settings', 'ren', 'completion', 'enabled')
    or vim.tbl_get(config, 'init_options', 'completion', 'enabled')
  local opts = vim.tbl_extend('force', M.options.completion or {},
    { settings = { completion = { enabled = enabled == true } } })
  require('ren.completion').attach(ev.buf, client, opts)
end

--- Commands and progress; idempotent (plugin/ren.lua calls it, so does setup()).
function M.init()
  if group then
    return
  end
  group = vim.api.nvim_create_augroup('ren', { clear = true })
  M.create_commands()
  vim.api.nvim_create_autocmd('LspProgress', { group = group, callback = on_progress })
  vim.api.nvim_create_autocmd('LspAttach', { group = group, callback = on_attach })
end

--- Options (see M.defaults) and, unless `enable = false`, start ren-lsp for file buffers.
function M.setup(opts)
  M.options = vim.tbl_deep_extend('force', vim.deepcopy(M.defaults), opts or {})
  M.init()
  local use_start = not has_011 or M.options.start_with == 'start'
  if not use_start then
    vim.lsp.config(M.name, overrides(M.options))
    if M.options.enable then
      vim.lsp.enable(M.name)
    end
    return
  end
  if M.options.enable then
    vim.api.nvim_create_autocmd('FileType', {
      group = vim.api.nvim_create_augroup('ren.start', { clear = true }),
      callback = function(ev)
        M.start(ev.buf)
      end,
    })
    for _, bufnr in ipairs(vim.api.nvim_list_bufs()) do
      if vim.api.nvim_buf_is_loaded(bufnr) and vim.bo[bufnr].filetype ~= '' then
        M.start(bufnr)
      end
    end
  end
end

return M
