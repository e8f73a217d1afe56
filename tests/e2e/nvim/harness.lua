-- Shared by the scripts here: a real Neovim (headless, `-u NONE -l script.lua PLUGIN WORKSPACE`)
-- with the plugin in editors/nvim on its runtimepath, driving the real ren-lsp.
--
-- Results go to stdout, one per line, for tests/e2e/test_nvim.py:
--   OK   <check>            FAIL <check>: <detail>      DATA <name> <json>
-- and "DONE <failures>" last. Waiting is always vim.wait on a condition (an event arriving),
-- with a timeout; never a sleep.
local H = {}

H.plugin, H.workspace = assert(arg[1], 'usage: PLUGIN WORKSPACE'), assert(arg[2])
vim.opt.runtimepath:prepend(H.plugin)
vim.o.swapfile = false
vim.o.more = false
vim.cmd('filetype on') -- -u NONE leaves it off, and vim.lsp.enable starts servers on FileType

H.failures = 0

function H.out(line)
  io.stdout:write(line .. '\n')
  io.stdout:flush()
end

function H.check(ok, name, detail)
  if ok then
    H.out('OK   ' .. name)
  else
    H.failures = H.failures + 1
    H.out('FAIL ' .. name .. (detail and (': ' .. tostring(detail)) or ''))
  end
  return ok
end

function H.data(name, value)
  H.out('DATA ' .. name .. ' ' .. vim.json.encode(value))
end

--- vim.wait on `predicate`; FAIL `name` (with `detail()` if given) when it times out.
function H.wait(ms, predicate, name, detail)
  local ok = vim.wait(ms, predicate, 10)
  if not ok then
    H.check(false, name, 'timed out after ' .. ms .. ' ms' .. (detail and ('; ' .. detail()) or ''))
  end
  return ok
end

-- Everything ren's progress and vim.notify said, in order.
H.progress = {} -- { token, kind, title, message, status } (status: require('ren').status() then)
H.notes = {} -- { message, level }

vim.notify = function(message, level)
  table.insert(H.notes, { message = message, level = level or vim.log.levels.INFO })
end

--- The progress values of the latest request whose begin has `title`, once it ended.
function H.progress_of(title)
  local token
  for _, p in ipairs(H.progress) do
    if p.kind == 'begin' and p.title == title then
      token = p.token
    end
  end
  if not token then
    return nil
  end
  local values = vim.tbl_filter(function(p)
    return p.token == token
  end, H.progress)
  return values[#values].kind == 'end' and values or nil
end

function H.wait_progress_end(title, ms)
  local values
  H.wait(ms or 10000, function()
    values = H.progress_of(title)
    return values ~= nil
  end, title .. ' progress ended', function()
    return vim.inspect(H.progress)
  end)
  return values
end

--- Record ren's progress; registered after the plugin's own handler (H.open calls it), so
--- `status` is the statusline component once the plugin has seen the event.
local watching = false
local function watch_progress()
  if watching then
    return
  end
  watching = true
  vim.api.nvim_create_autocmd('LspProgress', {
    callback = function(ev)
      local client = vim.lsp.get_client_by_id(ev.data.client_id)
      if not client or client.name ~= 'ren' then
        return
      end
      local value = ev.data.params.value
      table.insert(H.progress, {
        token = ev.data.params.token,
        kind = value.kind,
        title = value.title,
        message = value.message,
        status = require('ren').status(),
      })
    end,
  })
end

--- Open a file of the workspace; its buffer and window.
function H.open(name)
  watch_progress()
  vim.cmd.edit(vim.fn.fnameescape(H.workspace .. '/' .. name))
  return vim.api.nvim_get_current_buf(), vim.api.nvim_get_current_win()
end

--- The ren client attached to `bufnr`, once initialized.
function H.client(bufnr)
  local client
  H.wait(15000, function()
    client = vim.lsp.get_clients({ bufnr = bufnr, name = 'ren' })[1]
    return client ~= nil and client.initialized == true
  end, 'ren-lsp attached and initialized')
  return client
end

function H.text(bufnr)
  return table.concat(vim.api.nvim_buf_get_lines(bufnr, 0, -1, false), '\n')
end

--- Output documents (buffers under ren-lsp/sessions/) in windows: { bufnr = win }.
function H.output_windows()
  local found = {}
  for _, win in ipairs(vim.api.nvim_list_wins()) do
    local bufnr = vim.api.nvim_win_get_buf(win)
    if require('ren').is_output(vim.api.nvim_buf_get_name(bufnr)) then
      found[bufnr] = win
    end
  end
  return found
end

--- Wait for an output document (not in `seen`) whose text contains `needle`; its buffer.
function H.wait_output(needle, seen, ms)
  local found
  H.wait(ms or 10000, function()
    for _, bufnr in ipairs(vim.api.nvim_list_bufs()) do
      if not (seen and seen[bufnr]) and vim.api.nvim_buf_is_loaded(bufnr)
        and require('ren').is_output(vim.api.nvim_buf_get_name(bufnr))
        and H.text(bufnr):find(needle, 1, true) then
        found = bufnr
        return true
      end
    end
    return false
  end, 'an output document containing ' .. needle)
  return found
end

--- A visual selection made as a user does (`keys` in normal mode, ending with <Esc>).
function H.select(keys)
  vim.cmd('execute "normal! ' .. keys .. '\\<Esc>"')
end

--- Stop the clients, report, quit with the failure count as exit status.
function H.finish()
  for _, client in ipairs(vim.lsp.get_clients({ name = 'ren' })) do
    vim.lsp.stop_client(client.id)
  end
  vim.wait(5000, function()
    return #vim.lsp.get_clients({ name = 'ren' }) == 0
  end, 10)
  H.data('notes', H.notes)
  H.out('DONE ' .. H.failures)
  vim.cmd(H.failures == 0 and 'qall!' or 'cquit! 1')
end

--- Run `main(H)`; a Lua error is one more failure, and the script still finishes.
function H.run(main)
  local ok, err = xpcall(main, debug.traceback, H)
  if not ok then
    H.check(false, 'script error', err:gsub('\n', ' | '))
  end
  H.finish()
end

return H
